namespace EdgeAgent.Runtime.Training;

/// <summary>
/// Builds training batches that mix fresh and replayed samples at a set ratio. An epoch is one pass
/// over the fresh samples; replayed ones are drawn without replacement, reshuffled whenever the replay
/// set is used up. With no fresh samples the epoch is one pass over the replay set.
/// </summary>
public sealed class ReplayMixer
{
    private readonly int _fresh, _replay, _freshPerBatch, _replayPerBatch;
    private readonly Random _random;
    private readonly int[] _freshOrder, _replayOrder;
    private int _replayCursor;

    public ReplayMixer(int freshCount, int replayCount, int batchSize, float replayRatio, Random random)
    {
        if (freshCount < 0 || replayCount < 0) throw new ArgumentOutOfRangeException(nameof(freshCount));
        if (freshCount + replayCount == 0) throw new ArgumentException("nothing to train on: no fresh and no replayed samples");
        if (replayRatio is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(replayRatio), "replay ratio must be in [0, 1]");
        _fresh = freshCount; _replay = replayCount; _random = random;
        int replayPart = replayCount == 0 ? 0 : freshCount == 0 ? batchSize : (int)MathF.Round(batchSize * replayRatio);
        replayPart = Math.Min(replayPart, batchSize - (freshCount == 0 ? 0 : 1));
        _replayPerBatch = Math.Min(replayPart, replayCount);
        _freshPerBatch = freshCount == 0 ? 0 : batchSize - replayPart;
        _freshOrder = Enumerable.Range(0, freshCount).ToArray();
        _replayOrder = Enumerable.Range(0, replayCount).ToArray();
        _random.Shuffle(_replayOrder);
    }

    public int FreshPerBatch => _freshPerBatch;
    public int ReplayPerBatch => _replayPerBatch;

    /// <summary>
    /// The batches of one epoch. Each entry is (isReplay, index): an index into the fresh list or the
    /// replay list; within a batch the fresh entries come first. The returned list is reused by the next call.
    /// </summary>
    public IEnumerable<List<(bool Replay, int Index)>> Epoch()
    {
        var batch = new List<(bool, int)>(_freshPerBatch + _replayPerBatch);
        if (_fresh == 0)
        {
            _random.Shuffle(_replayOrder);
            for (int start = 0; start < _replay; start += _replayPerBatch)
            {
                batch.Clear();
                for (int i = start; i < Math.Min(_replay, start + _replayPerBatch); i++) batch.Add((true, _replayOrder[i]));
                yield return batch;
            }
            yield break;
        }
        _random.Shuffle(_freshOrder);
        for (int start = 0; start < _fresh; start += _freshPerBatch)
        {
            batch.Clear();
            int end = Math.Min(_fresh, start + _freshPerBatch);
            for (int i = start; i < end; i++) batch.Add((false, _freshOrder[i]));
            // A short last batch keeps the ratio: fewer fresh samples, proportionally fewer replayed.
            int replayWanted = (int)Math.Round((double)_replayPerBatch * (end - start) / _freshPerBatch);
            for (int r = 0; r < replayWanted; r++)
            {
                if (_replayCursor == _replay) { _random.Shuffle(_replayOrder); _replayCursor = 0; }
                batch.Add((true, _replayOrder[_replayCursor++]));
            }
            yield return batch;
        }
    }
}
