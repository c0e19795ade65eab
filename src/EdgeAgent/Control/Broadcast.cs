using System.Threading.Channels;

namespace EdgeAgent.Daemon.Control;

/// <summary>
/// Fans one producer's items out to any number of subscribers, each with its own bounded queue. A slow
/// subscriber (an MQTT link that is down, a console that is scrolled) loses its oldest items and counts
/// them; it never slows the producer or grows memory.
/// </summary>
public sealed class Broadcast<T>
{
    private readonly object _gate = new();
    private Subscription[] _subscriptions = [];

    /// <summary>Adds a subscriber that keeps at most <paramref name="capacity"/> unread items.</summary>
    public Subscription Subscribe(string name, int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        var subscription = new Subscription(this, name, capacity);
        lock (_gate) _subscriptions = [.. _subscriptions, subscription];
        return subscription;
    }

    public int SubscriberCount => Volatile.Read(ref _subscriptions).Length;

    /// <summary>Offers <paramref name="item"/> to every subscriber; never blocks.</summary>
    public void Publish(T item)
    {
        foreach (var subscription in Volatile.Read(ref _subscriptions)) subscription.Offer(item);
    }

    private void Remove(Subscription subscription)
    {
        lock (_gate) _subscriptions = _subscriptions.Where(s => s != subscription).ToArray();
    }

    public sealed class Subscription : IDisposable
    {
        private readonly Broadcast<T> _owner;
        private readonly Channel<T> _channel;
        private long _dropped;

        internal Subscription(Broadcast<T> owner, string name, int capacity)
        {
            _owner = owner;
            Name = name;
            _channel = Channel.CreateBounded<T>(
                new BoundedChannelOptions(capacity)
                {
                    FullMode = BoundedChannelFullMode.DropOldest,
                    SingleReader = true,
                    SingleWriter = false,
                    AllowSynchronousContinuations = false,
                },
                _ => Interlocked.Increment(ref _dropped));
        }

        public string Name { get; }

        public ChannelReader<T> Reader => _channel.Reader;

        /// <summary>Items this subscriber lost because it did not keep up.</summary>
        public long Dropped => Interlocked.Read(ref _dropped);

        internal void Offer(T item) => _channel.Writer.TryWrite(item);

        /// <summary>
        /// Ends the subscription's stream when <paramref name="stopping"/> fires, so that its reader can wait without a
        /// token (<c>ReadAllAsync()</c>): a bounded channel reuses one waiter for waits that cannot be cancelled and
        /// allocates a new one for every cancellable wait, which at one wait per inference is garbage per inference.
        /// </summary>
        public CancellationTokenRegistration CompleteOn(CancellationToken stopping) =>
            stopping.UnsafeRegister(static writer => ((ChannelWriter<T>)writer!).TryComplete(), _channel.Writer);

        public void Dispose()
        {
            _owner.Remove(this);
            _channel.Writer.TryComplete();
        }
    }
}
