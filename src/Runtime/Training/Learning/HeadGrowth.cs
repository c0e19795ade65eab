namespace EdgeAgent.Runtime.Training;

/// <summary>Class-incremental growth of a head: its last Dense layer gains outputs, old ones untouched.</summary>
public static class HeadGrowth
{
    /// <summary>Appends <paramref name="newClasses"/> outputs to the head's final Dense layer.</summary>
    public static void AddClasses(Network head, int newClasses, Random random)
    {
        if (head.Layers[^1] is not Dense last)
            throw new InvalidOperationException($"the head must end in a Dense layer to grow classes; it ends in '{head.Layers[^1].Name}' ({head.Layers[^1].OpType})");
        last.GrowOutputs(newClasses, random);
        head.Revalidate();
    }
}
