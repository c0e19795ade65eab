// System.Numerics.Tensors also defines a Tensor; ours is the one this library means.
global using Tensor = EdgeAgent.Runtime.Ir.Tensor;
