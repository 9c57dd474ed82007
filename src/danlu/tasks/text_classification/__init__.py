"""Text classification: fastText-compatible tools, neural classifiers, multi-label; and
fastText's word vectors (cbow, skipgram).

Modules, bottom to top: each imports only modules listed before it (a test checks it),
torch only in ``neural_model`` and ``neural_train``, which only a network loads::

    config             name tables (losses, models, tokenizers, qtypes, file formats), configs
    data               __label__ files and the whitespace, char and jieba tokenizers
    hashing            fastText's FNV-1a hashes, word and char n-gram buckets
    huffman            the Huffman tree of the labels (-loss hs)
    dictionary         words, labels and the input rows of a line
    sgd_kernel         compiles and loads the C step and reader (sgd_kernel.c)
    plain_text         lines of plain text cut and looked up in C (predict)
    fast_reader        the compiled reader: a file's tokens counted and numbered
    losses             the output losses as gradients of the scores (numpy)
    product_quantizer  product quantization: k-means codebooks, codes
    packing            int8 rows; decoding the packed arrays of a quantized file
    classifier         top-k labels of a line from a model's label probabilities
    model              FastTextModel (numpy): hidden vector, scores, top-k; its file
    bin_cursor         a cursor over a binary file's bytes, one-line errors
    fasttext_bin       fastText's own .bin/.ftz files: their layout, read as a FastTextModel
    fasttext_bin_write writing them: a dense .bin, a product-quantized .ftz
    vectors            word and sentence vectors, rows, neighbours, .vec (fastText's API)
    word_queries       print-word-vectors, print-sentence-vectors, nn, analogies, dump
    neural_model       NeuralTextModel (torch) and its file
    load               load_model: either model file, by its format
    predict            P@k, R@k, per-label scores, predicting a stream of lines
    meter              get_meter: fastText's scores per label, precision-recall curves
    examples           encoded examples; each worker's share of an epoch
    numpy_engine       fastText's SGD step on mini-batches; the learning-rate decay
    c_engine           fastText's per-example SGD step in C, one worker's share
    workers            Hogwild pools: threads (C step) or forked processes (numpy step)
    train              train_fasttext: dictionary, weights, epochs, early stopping
    word_engine        cbow and skipgram: the encoded corpus, tables, the compiled step
    word_numpy         the same updates in numpy (no C compiler), one at a time
    unsupervised       train_word_vectors: read, dictionary, weights, epochs
    quantize           prune, retrain, pack: danlu quantize
    neural_train       train_neural: a network with danlu's Trainer
    autotune           random search of the fastText model's options
    supervised         train_classifier: the trainer a config asks for (CLI and API)
    commands           the CLI commands: parse, call, print
    demo               danlu demo's entry
"""
