"""Linear-chain conditional random field (CRF) head for sequence labeling.

A CRF scores a whole tag path y = y_0..y_{L-1} of a sentence x of length L,

    s(x, y) = start[y_0] + Σ_t E[t, y_t] + Σ_{t≥1} A[y_{t-1}, y_t] + end[y_L-1],

with emissions E (B, T, K) from an encoder and learned transitions A (K, K) [from, to],
and normalises *globally*: p(y | x) = exp s(x, y) / Z(x), Z(x) = Σ_y' exp s(x, y'). The loss
is the negative log-likelihood -log p(y | x) = log Z(x) - s(x, y) (positive, minimised).

- log Z by the forward algorithm in log space: α_0 = start + E_0,
  α_t(j) = logsumexp_i(α_{t-1}(i) + A[i, j]) + E[t, j], log Z = logsumexp_j(α_{L-1}(j) + end[j])
  (``impl="reference"``, autograd for the gradient). The default fast path runs the same
  recursion in rescaled probability space in float64 (one (B, K) @ (K, K) product per
  position) with a hand-written backward pass whose gradient is the marginals; a float64
  test proves the two agree, and the fast path falls back to the reference if it underflows.
- decoding by Viterbi (max in place of logsumexp), batched back-tracking
  (:mod:`danlu.decoding.viterbi`); ``top_k > 1`` returns the k best paths.
- marginals p(y_t = j | x) = exp(α_t(j) + β_t(j) - log Z) by forward-backward, with
  β_{L-1} = end and β_t(i) = logsumexp_j(A[i, j] + E[t+1, j] + β_{t+1}(j)).

``constraints`` (from :func:`~danlu.nn.transitions.allowed_transitions`) replace forbidden
start, end and transition scores by :data:`~danlu.nn.transitions.FORBIDDEN` (-1e4) in
training and decoding; the parameters themselves are left untouched.

Unlike pytorch-crf, ``nll`` returns a loss (not a log-likelihood), the default reduction is
the mean over sequences, masks are validated, and decoding returns padded tensors.

Reference: Lafferty, McCallum and Pereira, "Conditional Random Fields", ICML 2001.

Example:
    >>> crf = CRF(5)
    >>> emissions = torch.randn(2, 7, 5)  # (B, T, K)
    >>> mask = torch.arange(7)[None, :] < torch.tensor([[7], [4]])
    >>> tags = torch.randint(5, (2, 7))
    >>> loss = crf.nll(emissions, tags, mask)  # scalar, minimise it
    >>> best, scores = crf.decode(emissions, mask)  # (2, 7) with -1 padding, (2,)
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.autograd.function import once_differentiable

from danlu.decoding.viterbi import kbest_viterbi, viterbi
from danlu.errors import UsageError
from danlu.nn._sequence_mask import check_emissions, check_mask, check_tags
from danlu.nn.sequence_loss import check_reduction, reduce_loss
from danlu.nn.transitions import FORBIDDEN, refresh_constrained, split_constraints

__all__ = ["CRF"]


class _ScaledForwardBackward(torch.autograd.Function):
    """log Z(x) by the scaled forward algorithm; its gradient by the backward algorithm.

    Fast path of :meth:`CRF.log_partition`. The recursion runs in probability space,
    p_t = (p_{t-1} @ exp(A)) * exp(E_t), rescaled every step so that max_j p_t(j) = 1 and the
    log scales summed: one small matrix product per position instead of a (B, K, K)
    logsumexp. It runs in float64 (exp range ±708 nats), so only score gaps of hundreds of
    nats could underflow; :meth:`CRF.log_partition` then falls back to the log-space path.

    The gradient is not left to autograd: with the backward vectors q_t (q_{L-1} ∝ exp(end),
    q_t ∝ exp(A) @ (exp(E_{t+1}) * q_{t+1})), d log Z / d E_t = p_t q_t / <p_t, q_t> (the
    marginals) and d log Z / d A = Σ_t pairwise marginals, one matrix product over all t.
    """

    @staticmethod
    def forward(  # type: ignore[override]
        ctx: torch.autograd.function.FunctionCtx,
        emissions: Tensor,
        start: Tensor,
        end: Tensor,
        trans: Tensor,
        mask: Tensor,
    ) -> Tensor:
        e = emissions.detach().double().transpose(0, 1)  # (T, B, K)
        e_max = e.amax(2, keepdim=True)
        exp_e = (e - e_max).exp_()
        a = trans.detach().double()
        exp_a = (a - a.max()).exp_()
        s, z = start.detach().double(), end.detach().double()
        exp_end = (z - z.max()).exp_()
        m = mask.t()  # (T, B)
        length = e.shape[0]
        p = e.new_empty(e.shape)  # p_t, each row rescaled to max 1
        scale = e.new_empty(e.shape[:2])  # the rescaling factors c_t
        first = (s - s.max()).exp_() * exp_e[0]
        torch.amax(first, 1, out=scale[0])
        torch.div(first, scale[0, :, None], out=p[0])
        for t in range(1, length):
            raw = torch.mm(p[t - 1], exp_a).mul_(exp_e[t])
            torch.amax(raw, 1, out=scale[t])
            torch.where(m[t, :, None], raw.div_(scale[t, :, None]), p[t - 1], out=p[t])
        log_scale = torch.where(m, scale.log() + e_max.squeeze(2) + a.max(), 0.0)
        log_z = (
            log_scale.sum(0)
            - a.max()  # the first position has no transition
            + s.max()
            + z.max()
            + torch.mv(p[-1], exp_end).log()
        )
        ctx.save_for_backward(p, exp_e, exp_a, exp_end, m)
        ctx.dtypes = (emissions.dtype, start.dtype, end.dtype, trans.dtype)  # type: ignore[attr-defined]
        return log_z.to(emissions.dtype)

    @staticmethod
    @once_differentiable
    def backward(  # type: ignore[override]
        ctx: torch.autograd.function.FunctionCtx, grad: Tensor
    ) -> tuple[Tensor | None, ...]:
        p, exp_e, exp_a, exp_end, m = ctx.saved_tensors  # type: ignore[attr-defined]
        length, _, k = p.shape
        q = torch.empty_like(p)
        q[-1] = exp_end
        for t in range(length - 2, -1, -1):
            raw = torch.mm(exp_e[t + 1] * q[t + 1], exp_a.t())
            raw.div_(raw.amax(1, keepdim=True))
            torch.where(m[t + 1, :, None], raw, exp_end, out=q[t])
        g = grad.double()
        joint = p * q
        marg = joint.div_(joint.sum(2, keepdim=True))  # (T, B, K): p(y_t = j | x)
        weight = m * g  # (T, B)
        d_e = d_s = d_end = d_a = None
        e_dtype, s_dtype, end_dtype, a_dtype = ctx.dtypes  # type: ignore[attr-defined]
        if ctx.needs_input_grad[0]:  # type: ignore[attr-defined]
            d_e = (marg * weight[:, :, None]).transpose(0, 1).to(e_dtype)
        if ctx.needs_input_grad[1]:  # type: ignore[attr-defined]
            d_s = torch.mv(marg[0].t(), g).to(s_dtype)
        if ctx.needs_input_grad[2]:  # type: ignore[attr-defined]
            d_end = torch.mv(marg[-1].t(), g).to(end_dtype)  # row T-1 carries row L-1
        if ctx.needs_input_grad[3] and length > 1:  # type: ignore[attr-defined]
            before = p[:-1]  # (T-1, B, K_from)
            after = exp_e[1:] * q[1:]  # (T-1, B, K_to)
            norm = (torch.matmul(before, exp_a) * after).sum(2)  # (T-1, B)
            after = after * (weight[1:] / norm)[:, :, None]
            pair = before.reshape(-1, k).t() @ after.reshape(-1, k)  # Σ_{b,t} (K, K)
            d_a = (exp_a * pair).to(a_dtype)
        elif ctx.needs_input_grad[3]:  # type: ignore[attr-defined]
            d_a = torch.zeros_like(exp_a, dtype=a_dtype)
        return d_e, d_s, d_end, d_a, None


class CRF(nn.Module):
    """Linear-chain CRF over ``num_tags`` tags with start, end and transition scores.

    Args:
        num_tags: K >= 1.
        constraints: optional allowed-move mask, (K+2, K+2) from ``allowed_transitions`` or
            (K, K) tag-to-tag; forbidden moves score -1e4 in training and decoding.

    Attributes:
        start_transitions: (K,) score of each tag opening a sequence.
        end_transitions: (K,) score of each tag closing a sequence.
        transitions: (K, K) score of moving from tag i (row) to tag j (column).
    """

    def __init__(self, num_tags: int, constraints: Tensor | None = None) -> None:
        super().__init__()
        if num_tags < 1:
            raise UsageError(f"num_tags must be >= 1, got {num_tags}; count the tag labels")
        self.num_tags = num_tags
        self.start_transitions = nn.Parameter(torch.empty(num_tags))
        self.end_transitions = nn.Parameter(torch.empty(num_tags))
        self.transitions = nn.Parameter(torch.empty(num_tags, num_tags))
        self.reset_parameters()
        if constraints is None:
            ones = torch.ones(num_tags, dtype=torch.bool)
            start, end, trans = ones, ones.clone(), torch.ones(num_tags, num_tags).bool()
            self.constrained = False
        else:
            start, end, trans = split_constraints(constraints, num_tags)
            self.constrained = True
        self.register_buffer("allowed_start", start)
        self.register_buffer("allowed_end", end)
        self.register_buffer("allowed_transitions", trans)
        self.register_load_state_dict_post_hook(refresh_constrained)

    def reset_parameters(self) -> None:
        """Uniform(-0.1, 0.1) scores: no preference before training."""
        for p in (self.start_transitions, self.end_transitions, self.transitions):
            nn.init.uniform_(p, -0.1, 0.1)

    def extra_repr(self) -> str:
        return f"num_tags={self.num_tags}, constrained={self.constrained}"

    def scores(self) -> tuple[Tensor, Tensor, Tensor]:
        """(start (K,), end (K,), transitions (K, K)) with forbidden moves set to -1e4."""
        if not self.constrained:
            return self.start_transitions, self.end_transitions, self.transitions
        return (
            self.start_transitions.masked_fill(~self.allowed_start, FORBIDDEN),
            self.end_transitions.masked_fill(~self.allowed_end, FORBIDDEN),
            self.transitions.masked_fill(~self.allowed_transitions, FORBIDDEN),
        )

    def _check(self, emissions: Tensor, mask: Tensor | None) -> Tensor:
        check_emissions(emissions, self.num_tags)
        return check_mask(mask, emissions.shape[0], emissions.shape[1], emissions.device)

    def path_score(self, emissions: Tensor, tags: Tensor, mask: Tensor) -> Tensor:
        """s(x, y) of the given paths, (B,); no Python loop over positions.

        Args:
            emissions: (B, T, K). tags: (B, T) long. mask: (B, T) bool length mask.
        """
        start, end, trans = self.scores()
        tags = tags.masked_fill(~mask, 0)  # padding may hold any value, e.g. -1
        maskf = mask.to(emissions.dtype)
        emit = emissions.gather(2, tags.unsqueeze(2)).squeeze(2)  # (B, T)
        # transition into position t, valid when t is inside the sequence
        pairs = trans[tags[:, :-1], tags[:, 1:]]  # (B, T-1)
        lengths = mask.sum(1)
        last = tags.gather(1, (lengths - 1).unsqueeze(1)).squeeze(1)
        return start[tags[:, 0]] + (emit * maskf).sum(1) + (pairs * maskf[:, 1:]).sum(1) + end[last]

    def log_partition(self, emissions: Tensor, mask: Tensor, impl: str = "fast") -> Tensor:
        """log Z(x), (B,), by the forward algorithm.

        Args:
            emissions: (B, T, K). mask: (B, T) bool length mask (not checked here).
            impl: "fast" (scaled float64 recursion with a hand-written backward; falls back to
                "reference" if it ever underflows) or "reference" (log space, logsumexp,
                autograd).
        """
        start, end, trans = self.scores()
        if impl == "fast":
            log_z = _ScaledForwardBackward.apply(emissions, start, end, trans, mask)
            if bool(torch.isfinite(log_z).all()):
                return log_z
        elif impl != "reference":
            raise UsageError(f"unknown impl {impl!r}; valid: fast, reference")
        alpha = start + emissions[:, 0]  # (B, K)
        for t in range(1, emissions.shape[1]):
            # (B, K_from, 1) + (K_from, K_to) -> logsumexp over K_from
            nxt = torch.logsumexp(alpha.unsqueeze(2) + trans, dim=1) + emissions[:, t]
            alpha = torch.where(mask[:, t : t + 1], nxt, alpha)
        return torch.logsumexp(alpha + end, dim=1)

    def nll(
        self, emissions: Tensor, tags: Tensor, mask: Tensor | None = None, reduction: str = "mean"
    ) -> Tensor:
        """Negative log-likelihood log Z(x) - s(x, y): a loss to minimise.

        Args:
            emissions: (B, T, K) float.
            tags: (B, T) long gold tags; padding may hold any value.
            mask: (B, T) bool (or 0/1 integer) length mask; None = all valid.
            reduction: "mean" over sequences (default), "sum", "none" (B,), or
                "token_mean" (sum divided by the number of valid tokens).

        Returns:
            The reduced loss (a scalar, or (B,) for "none").
        """
        check_reduction(reduction)
        mask = self._check(emissions, mask)
        check_tags(tags, mask, self.num_tags)
        losses = self.log_partition(emissions, mask) - self.path_score(emissions, tags, mask)
        return reduce_loss(losses, mask, reduction)

    def forward(
        self, emissions: Tensor, tags: Tensor, mask: Tensor | None = None, reduction: str = "mean"
    ) -> Tensor:
        """Same as :meth:`nll`: calling the module returns the loss."""
        return self.nll(emissions, tags, mask, reduction)

    @torch.no_grad()
    def decode(
        self, emissions: Tensor, mask: Tensor | None = None, top_k: int = 1
    ) -> tuple[Tensor, Tensor]:
        """Viterbi decoding: the best path (or the ``top_k`` best) of every sequence.

        Args:
            emissions: (B, T, K). mask: (B, T) length mask; None = all valid.
            top_k: number of paths per sequence, >= 1.

        Returns:
            top_k == 1: tags (B, T) long with -1 after each length, scores (B,).
            top_k > 1: tags (B, k, T), scores (B, k), best first; paths beyond the number of
            distinct paths have score -inf and tags -1.
        """
        if top_k < 1:
            raise UsageError(f"top_k must be >= 1, got {top_k}; ask for at least one path")
        mask = self._check(emissions, mask)
        start, end, trans = self.scores()
        if top_k == 1:
            return viterbi(emissions, mask, trans, start, end)
        return kbest_viterbi(emissions, mask, trans, top_k, start, end)

    def marginals(self, emissions: Tensor, mask: Tensor | None = None) -> Tensor:
        """p(y_t = j | x) by forward-backward, (B, T, K); padded positions are 0.

        Args:
            emissions: (B, T, K). mask: (B, T) length mask; None = all valid.
        """
        mask = self._check(emissions, mask)
        start, end, trans = self.scores()
        length = emissions.shape[1]
        alphas = [start + emissions[:, 0]]
        for t in range(1, length):
            nxt = torch.logsumexp(alphas[-1].unsqueeze(2) + trans, dim=1) + emissions[:, t]
            alphas.append(torch.where(mask[:, t : t + 1], nxt, alphas[-1]))
        log_z = torch.logsumexp(alphas[-1] + end, dim=1)  # (B,)
        end_b = end.expand_as(alphas[0])
        betas = [end_b]
        for t in range(length - 2, -1, -1):
            ahead = (emissions[:, t + 1] + betas[-1]).unsqueeze(1)  # (B, 1, K_to)
            nxt = torch.logsumexp(trans + ahead, dim=2)  # (B, K_from)
            betas.append(torch.where(mask[:, t + 1 : t + 2], nxt, end_b))
        alpha = torch.stack(alphas, 1)  # (B, T, K)
        beta = torch.stack(betas[::-1], 1)
        probs = torch.exp(alpha + beta - log_z[:, None, None])
        return probs * mask.unsqueeze(2).to(probs.dtype)
