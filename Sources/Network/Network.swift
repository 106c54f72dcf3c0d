// The Network module: network descriptions, Float32 kernels, forward passes, hooks, interventions.
