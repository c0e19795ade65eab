using System.Globalization;
using System.IO.Compression;
using EdgeAgent.Runtime;
using EdgeAgent.Runtime.Ir;
using EdgeAgent.Runtime.Onnx;

namespace EdgeAgent.Compression.Data;

/// <summary>
/// Loads samples for a model's inputs from the formats the exporter accepts:
/// <list type="bullet">
/// <item>.npy: one array [N, ...per-sample shape] for a single-input model;</item>
/// <item>.npz: one array per input, named like the input (or a single array), and optionally "y"/"labels";</item>
/// <item>a folder of .pb TensorProto files (one sample each), or of folders holding input_K.pb per sample;</item>
/// <item>.csv: one sample per row, values flattened, optional header; with labels, the last column is the class;</item>
/// <item>IDX (MNIST format, .gz allowed): images scaled to [0, 1], labels from the matching labels file.</item>
/// </list>
/// Every sample is checked against the model's declared input shape; a mismatch names the file and shapes.
/// </summary>
public static class DatasetLoader
{
    public static SampleSet Load(string path, IReadOnlyList<ValueInfo> inputs, bool wantLabels, int limit = int.MaxValue)
    {
        if (inputs.Count == 0) throw new DataFormatException("the model has no inputs");
        foreach (var i in inputs)
            if (i.ElementType != DataType.Float)
                throw new DataFormatException($"model input '{i.Name}' is {i.ElementType.ToName()}; only float32 inputs can be fed from data files");
        if (Directory.Exists(path)) return LoadFolder(path, inputs, limit);
        if (!File.Exists(path)) throw new DataFormatException($"{path}: no such file or folder");
        var name = Path.GetFileName(path);
        if (name.EndsWith(".npy", StringComparison.OrdinalIgnoreCase)) return FromArrays(path, inputs, [Npy(File.ReadAllBytes(path), path)], null, limit);
        if (name.EndsWith(".npz", StringComparison.OrdinalIgnoreCase)) return LoadNpz(path, inputs, wantLabels, limit);
        if (name.EndsWith(".csv", StringComparison.OrdinalIgnoreCase)) return LoadCsv(path, inputs, wantLabels, limit);
        if (name.Contains("idx3-ubyte", StringComparison.Ordinal)) return LoadIdx(path, inputs, wantLabels, limit);
        throw new DataFormatException($"{path}: unknown data format (use .npy, .npz, .csv, an IDX images file, or a folder of .pb tensors)");
    }

    // The runtime's reader is the one .npy parser; its errors become data errors here, message unchanged.
    private static Tensor Npy(byte[] bytes, string where)
    {
        try { return NpyFile.Parse(bytes, where); }
        catch (ModelLoadException e) { throw new DataFormatException(e.Message, e); }
    }

    private static int[] PerSampleShape(ValueInfo input, string source)
    {
        var shape = input.Shape ?? throw new DataFormatException($"model input '{input.Name}' declares no shape, so {source} cannot be checked against it");
        var dims = new int[shape.Count - 1];
        for (int d = 1; d < shape.Count; d++)
        {
            if (shape[d].Value is not { } v) throw new DataFormatException($"model input '{input.Name}' has a symbolic dimension {d} ({shape[d]}); only the batch may be symbolic");
            dims[d - 1] = (int)v;
        }
        if (shape.Count == 0) throw new DataFormatException($"model input '{input.Name}' is a scalar");
        return dims;
    }

    private static int Size(int[] shape) => shape.Aggregate(1, (a, d) => a * d);

    // arrays[k] is [N, ...] for input k; checks per-sample shapes and splits into batch-1 samples.
    private static SampleSet FromArrays(string source, IReadOnlyList<ValueInfo> inputs, IReadOnlyList<Tensor> arrays, int[]? labels, int limit)
    {
        if (arrays.Count != inputs.Count)
            throw new DataFormatException($"{source}: {arrays.Count} arrays for a model with {inputs.Count} inputs ({string.Join(", ", inputs.Select(i => i.Name))})");
        int n = -1;
        var perSample = new int[inputs.Count][];
        var floats = new float[inputs.Count][];
        for (int k = 0; k < inputs.Count; k++)
        {
            var a = arrays[k];
            perSample[k] = PerSampleShape(inputs[k], source);
            int count;
            if (a.Rank == perSample[k].Length + 1 && a.Shape[1..].SequenceEqual(perSample[k])) count = a.Shape[0];
            else if (a.Rank == perSample[k].Length && a.Shape.SequenceEqual(perSample[k])) count = 1;
            else if (a.Rank == 2 && a.Shape[1] == Size(perSample[k])) count = a.Shape[0];
            else throw new DataFormatException($"{source}: array of shape {Tensor.FormatShape(a.Shape)} does not match input '{inputs[k].Name}' [N,{string.Join(",", perSample[k])}]");
            if (n >= 0 && count != n) throw new DataFormatException($"{source}: arrays hold {n} and {count} samples");
            n = count;
            floats[k] = ToFloats(a, source);
        }
        if (n == 0) throw new DataFormatException($"{source}: the data set is empty");
        if (labels is not null && labels.Length != n) throw new DataFormatException($"{source}: {labels.Length} labels for {n} samples");
        n = Math.Min(n, limit);
        var samples = new List<Tensor[]>(n);
        for (int s = 0; s < n; s++)
        {
            var sample = new Tensor[inputs.Count];
            for (int k = 0; k < inputs.Count; k++)
            {
                int size = Size(perSample[k]);
                sample[k] = Tensor.FromArray<float>(floats[k].AsSpan(s * size, size), [1, .. perSample[k]]);
            }
            samples.Add(sample);
        }
        return new SampleSet(inputs.Select(i => i.Name).ToList(), samples, labels?.Take(n).ToArray(), source);
    }

    private static float[] ToFloats(Tensor t, string source)
    {
        var r = new float[t.ElementCount];
        switch (t.DataType)
        {
            case DataType.Float: t.Span<float>().CopyTo(r); break;
            case DataType.Double: for (int i = 0; i < r.Length; i++) r[i] = (float)t.Span<double>()[i]; break;
            case DataType.Float16: for (int i = 0; i < r.Length; i++) r[i] = (float)t.Span<Half>()[i]; break;
            default: throw new DataFormatException($"{source}: element type {t.DataType.ToName()} cannot feed a float32 input (use float32, float64 or float16)");
        }
        foreach (var v in r) if (!float.IsFinite(v)) throw new DataFormatException($"{source}: contains a non-finite value ({v})");
        return r;
    }

    private static int[] ToLabels(Tensor t, string source)
    {
        if (t.Rank != 1 && !(t.Rank == 2 && t.Shape[1] == 1)) throw new DataFormatException($"{source}: labels must be a vector, got shape {Tensor.FormatShape(t.Shape)}");
        var r = new int[t.ElementCount];
        for (int i = 0; i < r.Length; i++)
        {
            double v = t.GetDouble(i);
            if (v < 0 || v != Math.Floor(v) || v > int.MaxValue) throw new DataFormatException($"{source}: label {i} is {v}, not a class index");
            r[i] = (int)v;
        }
        return r;
    }

    private static SampleSet LoadNpz(string path, IReadOnlyList<ValueInfo> inputs, bool wantLabels, int limit)
    {
        var arrays = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            using var zip = ZipFile.OpenRead(path);
            foreach (var entry in zip.Entries)
            {
                if (!entry.FullName.EndsWith(".npy", StringComparison.Ordinal)) continue;
                using var s = entry.Open();
                using var m = new MemoryStream();
                s.CopyTo(m);
                arrays[entry.FullName[..^4]] = Npy(m.ToArray(), $"{path}:{entry.FullName}");
            }
        }
        catch (InvalidDataException e) { throw new DataFormatException($"{path}: not a valid .npz (zip) file ({e.Message})", e); }
        if (arrays.Count == 0) throw new DataFormatException($"{path}: no .npy arrays inside");
        Tensor? labelArray = null;
        foreach (var key in new[] { "y", "labels", "label" })
            if (arrays.Remove(key, out var l)) { labelArray = l; break; }
        if (wantLabels && labelArray is null) throw new DataFormatException($"{path}: no labels (add an array named 'y' or 'labels')");
        var ordered = new List<Tensor>();
        if (inputs.Count == 1 && arrays.Count == 1) ordered.Add(arrays.Values.First());
        else if (inputs.Count == 1 && arrays.TryGetValue("x", out var x)) ordered.Add(x);
        else
        {
            foreach (var i in inputs)
            {
                if (!arrays.TryGetValue(i.Name, out var a))
                    throw new DataFormatException($"{path}: no array named '{i.Name}' for model input '{i.Name}' (arrays: {string.Join(", ", arrays.Keys)})");
                ordered.Add(a);
            }
        }
        return FromArrays(path, inputs, ordered, labelArray is null ? null : ToLabels(labelArray, path), limit);
    }

    private static SampleSet LoadCsv(string path, IReadOnlyList<ValueInfo> inputs, bool wantLabels, int limit)
    {
        if (inputs.Count != 1) throw new DataFormatException($"{path}: CSV can only feed a single-input model (this one has {inputs.Count})");
        var perSample = PerSampleShape(inputs[0], path);
        int size = Size(perSample);
        var samples = new List<Tensor[]>();
        var labels = new List<int>();
        int lineNumber = 0;
        foreach (var line in File.ReadLines(path))
        {
            lineNumber++;
            if (samples.Count >= limit) break;
            if (string.IsNullOrWhiteSpace(line) || line.StartsWith('#')) continue;
            var cells = line.Split(',');
            var values = new float[cells.Length];
            bool numeric = true;
            for (int c = 0; c < cells.Length; c++)
                numeric &= float.TryParse(cells[c].Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out values[c]);
            if (!numeric)
            {
                if (samples.Count == 0 && lineNumber == 1) continue; // header
                throw new DataFormatException($"{path}:{lineNumber}: not a row of numbers");
            }
            int expected = size + (wantLabels ? 1 : 0);
            if (cells.Length != expected)
                throw new DataFormatException($"{path}:{lineNumber}: {cells.Length} columns, expected {expected} ({size} values for input '{inputs[0].Name}' [{string.Join(",", perSample)}]{(wantLabels ? " + label" : "")})");
            if (wantLabels)
            {
                float l = values[^1];
                if (l < 0 || l != MathF.Floor(l)) throw new DataFormatException($"{path}:{lineNumber}: label {l} is not a class index");
                labels.Add((int)l);
            }
            foreach (var v in values) if (!float.IsFinite(v)) throw new DataFormatException($"{path}:{lineNumber}: non-finite value");
            samples.Add([Tensor.FromArray<float>(values.AsSpan(0, size), [1, .. perSample])]);
        }
        if (samples.Count == 0) throw new DataFormatException($"{path}: the data set is empty");
        return new SampleSet([inputs[0].Name], samples, wantLabels ? [.. labels] : null, path);
    }

    private static SampleSet LoadIdx(string path, IReadOnlyList<ValueInfo> inputs, bool wantLabels, int limit)
    {
        var (images, shape) = IdxFile.Read(path);
        if (shape.Length != 3) throw new DataFormatException($"{path}: expected images [N,H,W], got rank {shape.Length}");
        var pixels = Tensor.Allocate(DataType.Float, [shape[0], shape[1] * shape[2]]);
        var span = pixels.Span<float>();
        // Pixels to [0, 1], the convention of the project's Fashion-MNIST models.
        for (int i = 0; i < images.Length; i++) span[i] = images[i] / 255f;
        int[]? labels = null;
        if (wantLabels)
        {
            var labelsPath = IdxFile.LabelsFor(path) ?? throw new DataFormatException($"{path}: no matching labels file (…-labels-idx1-ubyte) beside it");
            var (l, lshape) = IdxFile.Read(labelsPath);
            if (lshape.Length != 1 || lshape[0] != shape[0]) throw new DataFormatException($"{labelsPath}: {lshape[0]} labels for {shape[0]} images");
            labels = l.Select(b => (int)b).ToArray();
        }
        return FromArrays(path, inputs, [pixels], labels, limit);
    }

    private static SampleSet LoadFolder(string path, IReadOnlyList<ValueInfo> inputs, int limit)
    {
        var files = Directory.GetFiles(path, "*.pb").Order(StringComparer.Ordinal).ToList();
        var samples = new List<Tensor[]>();
        if (files.Count > 0)
        {
            if (inputs.Count != 1) throw new DataFormatException($"{path}: a flat folder of .pb files can only feed a single-input model; use one sub-folder per sample with input_K.pb");
            foreach (var f in files.Take(limit)) samples.Add([ReadPb(f, inputs[0])]);
        }
        else
        {
            foreach (var dir in Directory.GetDirectories(path).Order(StringComparer.Ordinal))
            {
                if (samples.Count >= limit) break;
                var parts = new Tensor[inputs.Count];
                for (int k = 0; k < inputs.Count; k++)
                {
                    var f = Path.Combine(dir, $"input_{k}.pb");
                    if (!File.Exists(f)) throw new DataFormatException($"{dir}: missing {Path.GetFileName(f)} for model input '{inputs[k].Name}'");
                    parts[k] = ReadPb(f, inputs[k]);
                }
                samples.Add(parts);
            }
        }
        if (samples.Count == 0) throw new DataFormatException($"{path}: the folder holds no .pb tensors (the data set is empty)");
        return new SampleSet(inputs.Select(i => i.Name).ToList(), samples, null, path);
    }

    private static Tensor ReadPb(string file, ValueInfo input)
    {
        Tensor t;
        try { t = OnnxReader.ReadTensorFile(file); }
        catch (ModelLoadException e) { throw new DataFormatException($"{file}: {e.Message}", e); }
        var perSample = PerSampleShape(input, file);
        float[] values = ToFloats(t, file);
        if (!(t.Rank == perSample.Length + 1 && t.Shape[0] == 1 && t.Shape[1..].SequenceEqual(perSample)) && !t.Shape.SequenceEqual(perSample))
            throw new DataFormatException($"{file}: tensor of shape {Tensor.FormatShape(t.Shape)} does not match input '{input.Name}' [1,{string.Join(",", perSample)}]");
        return Tensor.FromArray<float>(values, [1, .. perSample]);
    }
}
