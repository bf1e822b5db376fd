"""Encoders (RGCN), task decoders and KGE models; plain PyTorch modules over DGL blocks."""
