"""Models as plain PyTorch modules over DGL blocks: encoders (RGCN, GraphSAGE), task decoders and
KGE models (TransE, DistMult, RotatE)."""
