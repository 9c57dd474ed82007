"""Sequence labeling: Chinese NER and word segmentation with CRF/MEMM/softmax heads."""
