using EdgeAgent.Compression.Data.Simulated;
using EdgeAgent.Daemon.Configuration;
using EdgeAgent.Daemon.Control;
using EdgeAgent.Daemon.Inference;
using EdgeAgent.Daemon.Learning;
using EdgeAgent.Daemon.Reservoir;
using EdgeAgent.Daemon.Sensors;
using EdgeAgent.Daemon.Sensors.Simulated;
using Xunit;

namespace EdgeAgent.Tests.Learning;

public class LabelRuleServiceTests
{
    private static InferenceRecord Record(long sequence) =>
        new(sequence, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch, "1.0.0", 0, 1f, 0, "idle", 1f, 0.1);

    private static void Offer(MemoryReservoir reservoir, float value) =>
        reservoir.Offer(new ReservoirOffer(DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch, "1.0.0", 1, null, 1f), [value], [value, value]);

    private static EdgeAgentOptions Sensors(string type, string path = "") => new()
    {
        Sensors = [new SensorOptions { Name = "vib", Type = type, RateHz = 100, RegimeSeconds = 1, Path = path }],
    };

    [Fact]
    public void SimulatedRegimeLabelsEveryNthWindowWithTheModelsClassNameAndSkipsRegimeChanges()
    {
        using var sensors = new SensorRegistry(Sensors("simulated"));
        var source = (SimulatedVibrationSource)sensors.PipelineSource.Source;
        var reservoir = new MemoryReservoir();
        using var rule = new LabelRuleService(new Broadcast<InferenceRecord>(), reservoir, LabelRuleService.Truth("simulatedRegime", sensors), every: 2);
        var sample = new float[3];
        var expected = new List<(float Value, string Label)>();
        string? previous = null;
        // 50 samples (half a regime) between records; the regime changes every 100 samples.
        for (int seq = 1; seq <= 40; seq++)
        {
            for (int i = 0; i < 50; i++) source.Read(0, sample);
            Offer(reservoir, seq);
            string truth = source.TrueRegime.ToName();
            bool labelled = rule.Consider(Record(seq));
            bool due = seq % 2 == 0 && truth == previous;
            Assert.Equal(due, labelled);
            if (due) expected.Add((seq, truth));
            previous = truth;
        }
        Assert.Equal(expected.Count, rule.Labelled);
        Assert.InRange(expected.Count, 5, 20);
        var stored = reservoir.ReadLabelled(heldOut: false);
        Assert.Equal(expected.Select(e => (e.Value, e.Label)), stored.Select(s => (s.Embedding[0], s.Label!)));
        Assert.All(stored, s => Assert.Contains(s.Label, VibrationRegimes.Names));
        Assert.True(stored.Select(s => s.Label).Distinct().Count() >= 3, "the rule followed the regime schedule");
    }

    [Fact]
    public void RecordBeforeAnyWindowIsSkippedNotFatal()
    {
        var reservoir = new MemoryReservoir();
        using var rule = new LabelRuleService(new Broadcast<InferenceRecord>(), reservoir, () => "normal", every: 1);
        Assert.False(rule.Consider(Record(1))); // the first reading has no previous truth to agree with
        Assert.False(rule.Consider(Record(2))); // nothing offered yet
        Offer(reservoir, 3);
        Assert.True(rule.Consider(Record(3)));
        Assert.Equal(1, rule.Labelled);
        Assert.Equal("normal", reservoir.ReadLabelled(false).Single().Label);
    }

    [Fact]
    public void SimulatedRegimeOnAnotherSourceNamesTheSensor()
    {
        using var dir = new Support.TempDirectory();
        string csv = dir.File("vib.csv");
        File.WriteAllText(csv, "x,y,z\n0,0,1\n0,0,1\n");
        using var sensors = new SensorRegistry(Sensors("csv", csv));
        var error = Assert.Throws<LearnerException>(() => LabelRuleService.Truth("simulatedRegime", sensors));
        Assert.Contains("learning:labelRule", error.Message);
        Assert.Contains("'vib' is csv", error.Message);
        Assert.Throws<LearnerException>(() => LabelRuleService.Truth("oracle", sensors));
    }
}
