"""GPU check: the engine's own code on CUDA against the CPU, stage by stage."""
