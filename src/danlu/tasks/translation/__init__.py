"""Machine translation (``danlu translate``, issue 17; in progress: the data layer).

Modules, bottom to top (each imports only those before it)::

    data       TSV pairs, the dev split, reversible tokenizers (char, jieba, spm), vocabularies
"""
