namespace EdgeAgent.Runtime.Ir;

/// <summary>One dimension of a declared shape: a number, a symbol ("batch"), or unknown.</summary>
public readonly record struct Dim
{
    public long? Value { get; }
    public string? Symbol { get; }

    private Dim(long? value, string? symbol) { Value = value; Symbol = symbol; }

    public static Dim Known(long value) => new(value, null);
    public static Dim Symbolic(string symbol) => new(null, symbol);
    public static Dim Unknown => default;

    public bool IsKnown => Value is not null;

    public override string ToString() => Value?.ToString() ?? Symbol ?? "?";
}
