using System.Runtime.ExceptionServices;

namespace EdgeAgent.Kernels;

/// <summary>One unit of parallel work: <see cref="Execute"/> is called once for every index of a dispatch.</summary>
public interface IParallelWork
{
    /// <summary>Runs item <paramref name="index"/>; items of one dispatch may run concurrently.</summary>
    void Execute(int index);
}

/// <summary>
/// A small fixed pool of threads over which a caller spreads the items of one dispatch. The calling thread
/// takes part, so a pool of N threads starts N - 1. Kernels know nothing of it: callers partition output
/// tiles so that each element is computed by exactly one item, which keeps results bit-identical for any
/// thread count. A dispatch allocates nothing; dispatches are serialised.
/// </summary>
public sealed class WorkerPool : IDisposable
{
    private static readonly Lazy<WorkerPool> s_shared = new(() => new WorkerPool());

    private readonly Thread[] _threads;
    private readonly object _gate = new();
    private readonly object _dispatchLock = new();
    private IParallelWork? _work;
    private int _count;
    private int _next;
    private int _busyWorkers;
    private int _generation;
    private bool _disposed;
    private ExceptionDispatchInfo? _error;

    /// <summary>A process-wide pool using every core.</summary>
    public static WorkerPool Shared => s_shared.Value;

    /// <summary>Threads taking part in a dispatch, the caller included.</summary>
    public int ThreadCount { get; }

    /// <summary>Creates a pool of <paramref name="threadCount"/> threads (0 = one per core), caller included.</summary>
    public WorkerPool(int threadCount = 0)
    {
        if (threadCount < 0) ThrowHelper.Argument(nameof(threadCount), $"thread count {threadCount} is negative");
        ThreadCount = threadCount == 0 ? Environment.ProcessorCount : threadCount;
        _threads = new Thread[ThreadCount - 1];
        for (int i = 0; i < _threads.Length; i++)
        {
            _threads[i] = new Thread(WorkerLoop, 256 * 1024) { IsBackground = true, Name = $"edgeagent-kernels-{i + 1}" };
            _threads[i].Start();
        }
    }

    /// <summary>Calls <c>work.Execute(i)</c> for every i in [0, count) over the pool and returns when all are done.</summary>
    public void Run(IParallelWork work, int count)
    {
        ArgumentNullException.ThrowIfNull(work);
        if (count <= 0) return;
        if (_threads.Length == 0 || count == 1)
        {
            for (int i = 0; i < count; i++) work.Execute(i);
            return;
        }
        lock (_dispatchLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _work = work;
            _count = count;
            _next = 0;
            _error = null;
            Volatile.Write(ref _busyWorkers, _threads.Length);
            lock (_gate)
            {
                _generation++;
                Monitor.PulseAll(_gate);
            }
            Drain();
            var spin = new SpinWait();
            while (Volatile.Read(ref _busyWorkers) != 0) spin.SpinOnce(sleep1Threshold: -1);
            _work = null;
            _error?.Throw();
        }
    }

    private void Drain()
    {
        var work = _work!;
        int count = _count;
        int i;
        while ((i = Interlocked.Increment(ref _next) - 1) < count)
        {
            try
            {
                work.Execute(i);
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref _error, ExceptionDispatchInfo.Capture(e), null);
            }
        }
    }

    private void WorkerLoop()
    {
        int seen = 0;
        while (true)
        {
            // A short spin catches back-to-back dispatches (a model runs many small GEMMs) without a sleep.
            for (int s = 0; s < 200 && Volatile.Read(ref _generation) == seen && !Volatile.Read(ref _disposed); s++)
                Thread.SpinWait(20);
            lock (_gate)
            {
                while (_generation == seen && !_disposed) Monitor.Wait(_gate);
                if (_disposed) return;
                seen = _generation;
            }
            Drain();
            Interlocked.Decrement(ref _busyWorkers);
        }
    }

    /// <summary>Stops the worker threads.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            Monitor.PulseAll(_gate);
        }
    }
}
