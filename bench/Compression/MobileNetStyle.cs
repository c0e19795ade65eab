using EdgeAgent.Runtime.Training;

namespace EdgeAgent.Bench.Compression;

/// <summary>
/// The bench's MobileNet-style classifier for 28×28 images: a strided 3×3 stem, then depthwise-
/// separable blocks (3×3 depthwise → BN → ReLU → 1×1 pointwise → BN → ReLU), global average pooling
/// and one Dense layer. <c>widths</c> = stem channels, then each block's pointwise output channels.
/// </summary>
internal static class MobileNetStyle
{
    public static Network Create(int[] widths, int[] strides, int classes, int seed)
    {
        if (widths.Length != strides.Length + 1) throw new ArgumentException("one stride per block, blocks = widths - 1");
        var layers = new List<Layer> { new Conv2d(1, widths[0], 3, 3, 2, 2, 1, 1, bias: false), new BatchNorm(widths[0]), new Relu() };
        for (int b = 0; b < strides.Length; b++)
        {
            int c = widths[b];
            layers.Add(new Conv2d(c, c, 3, 3, strides[b], strides[b], 1, 1, c, bias: false));
            layers.Add(new BatchNorm(c));
            layers.Add(new Relu());
            layers.Add(new Conv2d(c, widths[b + 1], 1, 1, bias: false));
            layers.Add(new BatchNorm(widths[b + 1]));
            layers.Add(new Relu());
        }
        layers.Add(new GlobalAvgPool());
        layers.Add(new Flatten());
        layers.Add(new Dense(widths[^1], classes));
        var net = new Network([1, 28, 28], layers);
        net.Initialize(seed);
        return net;
    }
}
