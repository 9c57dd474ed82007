"""Run ``benchmarks/bench_*.py`` and write BENCHMARKS.md.

Each benchmark's section is kept in ``benchmarks/results/<name>.md`` (with the machine,
date and command of the run that produced it); BENCHMARKS.md is assembled from all of
them, so re-running one benchmark updates its section and keeps the others.

Usage::

    python benchmarks/run_all.py --out BENCHMARKS.md          # everything (make bench)
    python benchmarks/run_all.py --only optim                  # one benchmark, others kept
    python benchmarks/run_all.py --only optim --quick --out /tmp/b.md   # smoke run
"""

from __future__ import annotations

import argparse
import compileall
import datetime as dt
import importlib.util
import os
import platform
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def machine_description() -> str:
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"- date: {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}\n"
        f"- machine: {cpu}, {os.cpu_count()} logical cores, {platform.system()} "
        f"{platform.release()}\n"
        f"- python {platform.python_version()}, torch {torch.__version__}, "
        f"torch threads {torch.get_num_threads()}"
    )


def load(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it loads
    sys.path.insert(0, str(HERE))
    spec.loader.exec_module(module)
    return module


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="BENCHMARKS.md", help="Markdown file to write")
    parser.add_argument("--only", action="append", default=[], help="bench_NAME to run")
    parser.add_argument("--quick", action="store_true", help="fewer repeats (smoke run)")
    args = parser.parse_args(argv)

    paths = sorted(HERE.glob("bench_*.py"))
    if args.only:
        wanted = {f"bench_{n.removeprefix('bench_')}" for n in args.only}
        unknown = wanted - {p.stem for p in paths}
        if unknown:
            valid = ", ".join(p.stem.removeprefix("bench_") for p in paths)
            parser.error(f"unknown benchmark {sorted(unknown)}; valid: {valid}")
        paths = [p for p in paths if p.stem in wanted]

    # whole-process timings start danlu as an installed user's does: with its bytecode (pip
    # compiles an installed package, as it did the reference tools'); a shell that sets
    # PYTHONDONTWRITEBYTECODE would otherwise recompile ~60 modules in every run (~80 ms)
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    sys.dont_write_bytecode = False
    compileall.compile_dir(HERE.parent / "src" / "danlu", quiet=1)
    command = "python benchmarks/run_all.py " + " ".join(sys.argv[1:] if argv is None else argv)
    machine = machine_description()
    results = HERE / "results"
    smoke = args.quick or Path(args.out).resolve() != (HERE.parent / "BENCHMARKS.md").resolve()
    fresh: dict[str, str] = {}
    for path in paths:
        print(f"[bench] {path.stem} ...", flush=True)
        t0 = time.perf_counter()
        section = load(path).run(quick=args.quick).rstrip() + "\n"
        seconds = time.perf_counter() - t0
        print(f"[bench] {path.stem} done in {seconds:.1f}s", flush=True)
        fresh[path.stem] = (
            f"{section}\n<sub>measured by `{command.strip()}` ({seconds:.0f} s)</sub>\n\n"
            f"<sub>{' '.join(machine.splitlines())}</sub>\n"
        )
    if not smoke:  # keep the sections of benchmarks not run this time
        results.mkdir(exist_ok=True)
        for name, text in fresh.items():
            (results / f"{name}.md").write_text(text, encoding="utf-8")
        fresh = {p.stem: p.read_text(encoding="utf-8") for p in sorted(results.glob("*.md"))}
    header = [
        "# danlu benchmarks\n",
        "Written by `make bench` (`python benchmarks/run_all.py`). Every ratio compares danlu "
        "with the named reference measured in the same run on the same machine; absolute "
        "times drift on shared machines, ratios much less. Each section ends with the "
        "command, machine and date that produced it. Processes run with their bytecode "
        "compiled (danlu's by `run_all.py`, the reference packages' by pip), as installed.\n",
    ]
    Path(args.out).write_text("\n".join(header + list(fresh.values())), encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
