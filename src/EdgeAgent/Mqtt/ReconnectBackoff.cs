namespace EdgeAgent.Daemon.Mqtt;

/// <summary>
/// Exponential backoff with full jitter: delay = random(0, min(max, min * 2^attempt)). The jitter spreads a fleet's
/// reconnects after a broker restart so the devices do not all hit it in the same second.
/// </summary>
public sealed class ReconnectBackoff(TimeSpan min, TimeSpan max, Random? random = null)
{
    private readonly Random _random = random ?? Random.Shared;
    private int _attempt;

    public int Attempt => _attempt;

    public TimeSpan Next()
    {
        double ceiling = Math.Min(max.TotalMilliseconds, min.TotalMilliseconds * Math.Pow(2, Math.Min(_attempt, 30)));
        _attempt++;
        // Never below min: a zero delay would turn a refusing broker into a busy loop.
        return TimeSpan.FromMilliseconds(min.TotalMilliseconds + _random.NextDouble() * Math.Max(0, ceiling - min.TotalMilliseconds));
    }

    public void Reset() => _attempt = 0;
}
