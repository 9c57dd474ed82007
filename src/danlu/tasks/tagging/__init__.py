"""Sequence labelling: Chinese NER and word segmentation with CRF/MEMM/softmax heads.

Modules, bottom to top (each imports only those before it)::

    config     the options of tag/seg train|eval|predict|cut (no torch)
    model      Tagger (characters, bigrams -> BiLSTM -> head), TaggerSpec, its file
    sequences  vocabularies, bigram and jieba features, long-sentence splitting, batches
    predict    the path both tasks share: tags of token lists, dev scores, answering lines
    ner        NER's tag set and scores; tag eval, tag predict
    seg        segmentation's readers and scores; seg eval, seg cut
    train      one training path for both: dev split, vocabularies, the Trainer
    commands   the CLI commands: parse, call, print
    demo       danlu demo's entries
"""
