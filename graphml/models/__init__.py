"""Models: encoders (RGCN, GraphSAGE) and decoders (KGE scores, classifiers), as PyTorch modules."""
