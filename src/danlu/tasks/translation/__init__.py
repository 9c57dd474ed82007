"""Machine translation (``danlu translate``): GRU, GRU with attention and Transformer
translators, beam search, sacreBLEU scores, exposure-bias remedies, attention maps.

Modules, bottom to top (each imports only those before it)::

    config      the options of translate train|eval|run|align, the column rule (no torch)
    data        TSV pairs, the dev split, reversible tokenizers (char, jieba, spm), vocabularies
    model       TranslationSpec, the seq2seq network it builds, the model file
    batches     pairs as ids, truncation, length-grouped padded batches for the Trainer
    exposure    the loss; token noise, scheduled sampling, decoder-only adversarial (FGM)
    translator  lines -> search -> detokenized translations (eval, run, dev BLEU, the API)
    train       translate train: dev split, tokenizers, vocabularies, the Trainer
    evaluate    translate eval (sacreBLEU on a file) and translate run (standard input)
    align       translate align: the attention heat map of one sentence
    commands    the CLI commands: parse, call, print
    demo        danlu demo's entry
"""
