using System.IO.Compression;
using EdgeAgent.Compression.Data;
using EdgeAgent.Runtime.Ir;
using EdgeAgent.Runtime.Onnx;
using Xunit;

namespace EdgeAgent.Compression.Tests;

public sealed class DatasetLoaderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("datasets-").FullName;
    private static readonly ValueInfo[] s_inputs = [new("input", DataType.Float, [Dim.Symbolic("N"), Dim.Known(2), Dim.Known(3)])];

    public void Dispose() => Directory.Delete(_dir, true);

    private string P(string name) => Path.Combine(_dir, name);

    [Fact]
    public void NpyWithABatchDimensionGivesOneSamplePerRow()
    {
        var values = Enumerable.Range(0, 24).Select(i => (float)i).ToArray();
        File.WriteAllBytes(P("x.npy"), NpyFile.ToBytes(Tensor.FromArray<float>(values, 4, 2, 3)));
        var set = DatasetLoader.Load(P("x.npy"), s_inputs, wantLabels: false);
        Assert.Equal(4, set.Count);
        Assert.Equal([1, 2, 3], set.Samples[2][0].Shape.ToArray());
        Assert.Equal(12f, set.Samples[2][0].Span<float>()[0]);
    }

    [Fact]
    public void NpzCarriesInputsAndLabels()
    {
        using (var zip = ZipFile.Open(P("d.npz"), ZipArchiveMode.Create))
        {
            using (var s = zip.CreateEntry("x.npy").Open()) s.Write(NpyFile.ToBytes(Tensor.FromArray<float>(new float[18], 3, 2, 3)));
            using (var s = zip.CreateEntry("y.npy").Open()) s.Write(NpyFile.ToBytes(Tensor.FromArray<long>([2L, 0L, 1L], 3)));
        }
        var set = DatasetLoader.Load(P("d.npz"), s_inputs, wantLabels: true);
        Assert.Equal([2, 0, 1], set.Labels!);
    }

    [Fact]
    public void CsvRowsWithHeaderAndLabels()
    {
        File.WriteAllLines(P("d.csv"), ["a,b,c,d,e,f,label", "1,2,3,4,5,6,1", "6,5,4,3,2,1,0"]);
        var set = DatasetLoader.Load(P("d.csv"), s_inputs, wantLabels: true);
        Assert.Equal(2, set.Count);
        Assert.Equal([1, 0], set.Labels!);
        Assert.Equal(6f, set.Samples[1][0].Span<float>()[0]);
    }

    [Fact]
    public void FolderOfTensorProtos()
    {
        for (int i = 0; i < 3; i++) OnnxWriter.SaveTensor(Tensor.FromArray<float>(new float[6], 1, 2, 3), P($"s{i}.pb"), "input");
        Assert.Equal(3, DatasetLoader.Load(_dir, s_inputs, wantLabels: false).Count);
    }

    [Fact]
    public void ShapeMismatchNamesTheFileAndBothShapes()
    {
        File.WriteAllBytes(P("bad.npy"), NpyFile.ToBytes(Tensor.FromArray<float>(new float[20], 4, 5)));
        var e = Assert.Throws<DataFormatException>(() => DatasetLoader.Load(P("bad.npy"), s_inputs, wantLabels: false));
        Assert.Contains("bad.npy", e.Message);
        Assert.Contains("[4,5]", e.Message);
        Assert.Contains("input", e.Message);
    }

    [Fact]
    public void CsvWithTheWrongColumnCountNamesTheLine()
    {
        File.WriteAllLines(P("d.csv"), ["1,2,3,4,5,6", "1,2,3"]);
        var e = Assert.Throws<DataFormatException>(() => DatasetLoader.Load(P("d.csv"), s_inputs, wantLabels: false));
        Assert.Contains("d.csv:2", e.Message);
    }

    [Fact]
    public void EmptySetsAreRefused()
    {
        File.WriteAllText(P("empty.csv"), "a,b,c,d,e,f\n");
        Assert.Contains("empty", Assert.Throws<DataFormatException>(() => DatasetLoader.Load(P("empty.csv"), s_inputs, false)).Message);
        var sub = Directory.CreateDirectory(P("nothing")).FullName;
        Assert.Contains("empty", Assert.Throws<DataFormatException>(() => DatasetLoader.Load(sub, s_inputs, false)).Message);
    }

    [Fact]
    public void IntegerDataCannotFeedAFloatInput()
    {
        File.WriteAllBytes(P("i.npy"), NpyFile.ToBytes(Tensor.FromArray<int>(new int[6], 1, 2, 3)));
        Assert.Contains("int32", Assert.Throws<DataFormatException>(() => DatasetLoader.Load(P("i.npy"), s_inputs, false)).Message);
    }
}
