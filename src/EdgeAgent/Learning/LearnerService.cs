using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using EdgeAgent.Daemon.Configuration;
using EdgeAgent.Daemon.Control;
using EdgeAgent.Daemon.Reservoir;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EdgeAgent.Daemon.Learning;

/// <summary>What the control plane may ask of the learner (<c>learn/now</c>, <c>learn/pause</c>, <c>learn/resume</c>).</summary>
public interface ILearningControl
{
    /// <summary>Runs an update as soon as the learner is free and returns its outcome.</summary>
    Task<LearningOutcome> LearnNowAsync(CancellationToken cancellationToken);

    JsonObject Pause();

    JsonObject Resume();

    JsonObject State();
}

/// <summary>
/// The on-device learner: one dedicated thread at the lowest priority (nice <c>learning:nice</c>) that runs a
/// <see cref="HeadUpdater"/> when <c>learning:minNewLabels</c> labels arrived since the last run, every
/// <c>learning:intervalMinutes</c> when any did, or on <c>learn/now</c>. Inference never waits for it: it
/// trains on stored embeddings and only the final install takes the model host's lock, for a file rename
/// and a model load. Stopping cancels a running update (abandoned, nothing changes) unless it is already
/// installing, which finishes within the host's stop timeout.
/// </summary>
public sealed partial class LearnerService : BackgroundService, ILearningControl
{
    private static readonly TimeSpan Poll = TimeSpan.FromSeconds(1);
    private readonly HeadUpdater _updater;
    private readonly IReservoir _reservoir;
    private readonly IEventSink _events;
    private readonly LearningOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<LearnerService> _log;
    private readonly SemaphoreSlim _wake = new(0);
    private readonly Lock _gate = new();
    private readonly Queue<TaskCompletionSource<LearningOutcome>> _requests = new();
    private volatile bool _paused;
    private volatile bool _running;
    private long _labelsAtLastRun;
    private DateTimeOffset _lastRun;
    private LearningOutcome? _last;
    private int _runs, _accepted, _rejected;

    public LearnerService(HeadUpdater updater, IReservoir reservoir, IEventSink events, LearningOptions options, TimeProvider time, ILogger<LearnerService> log)
    {
        _updater = updater;
        _reservoir = reservoir;
        _events = events;
        _options = options;
        _time = time;
        _log = log;
        _lastRun = time.GetUtcNow();
    }

    public bool IsPaused => _paused;

    public Task<LearningOutcome> LearnNowAsync(CancellationToken cancellationToken)
    {
        if (_paused) throw new InvalidOperationException("learning is paused; send learn/resume first");
        var request = new TaskCompletionSource<LearningOutcome>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate) _requests.Enqueue(request);
        _wake.Release();
        return request.Task.WaitAsync(cancellationToken);
    }

    public JsonObject Pause()
    {
        if (!_paused)
        {
            _paused = true;
            _events.Publish(new DaemonEvent(_time.GetUtcNow(), LearningEvents.Paused, "on-device learning paused", State()));
        }
        return State();
    }

    public JsonObject Resume()
    {
        if (_paused)
        {
            _paused = false;
            _wake.Release();
            _events.Publish(new DaemonEvent(_time.GetUtcNow(), LearningEvents.Resumed, "on-device learning resumed", State()));
        }
        return State();
    }

    public JsonObject State()
    {
        long pending = Math.Max(0, _reservoir.LabelsAdded - Interlocked.Read(ref _labelsAtLastRun));
        return new JsonObject
        {
            ["enabled"] = _options.Enabled,
            ["paused"] = _paused,
            ["running"] = _running,
            ["new_labels"] = pending,
            ["min_new_labels"] = _options.MinNewLabels,
            ["interval_minutes"] = _options.IntervalMinutes,
            ["runs"] = _runs,
            ["accepted"] = _accepted,
            ["rejected"] = _rejected,
            ["last"] = _last?.ToJson(),
        };
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                LowerPriority();
                Loop(stoppingToken);
                done.TrySetResult();
            }
            catch (Exception e)
            {
                done.TrySetException(e);
            }
        })
        {
            Name = "edgeagent-learner",
            IsBackground = true,
            Priority = ThreadPriority.Lowest,
        };
        thread.Start();
        return done.Task;
    }

    private void Loop(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                _wake.Wait(Poll, stop);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            TaskCompletionSource<LearningOutcome>? request;
            lock (_gate) _requests.TryDequeue(out request);
            string? trigger = request is not null ? "command" : Due();
            if (trigger is null) continue;
            Interlocked.Exchange(ref _labelsAtLastRun, _reservoir.LabelsAdded);
            _lastRun = _time.GetUtcNow();
            _running = true;
            try
            {
                var outcome = _updater.RunAsync(trigger, stop).GetAwaiter().GetResult();
                Record(outcome);
                request?.TrySetResult(outcome);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // An unexpected failure of one update must not take the daemon down: report it and go on.
                LogUpdateFailed(e);
                var outcome = new LearningOutcome(LearningVerdict.Failed, e.Message, new JsonObject { ["trigger"] = trigger });
                _events.Publish(new DaemonEvent(_time.GetUtcNow(), LearningEvents.Failed, $"on-device update failed: {e.Message}", outcome.ToJson()));
                Record(outcome);
                request?.TrySetResult(outcome);
            }
            finally
            {
                _running = false;
            }
        }
        lock (_gate)
            while (_requests.TryDequeue(out var pending)) pending.TrySetCanceled(stop);
    }

    /// <summary>The automatic trigger that is due, or null.</summary>
    private string? Due()
    {
        if (_paused || !_options.Enabled) return null;
        long added = _reservoir.LabelsAdded - Interlocked.Read(ref _labelsAtLastRun);
        if (added >= _options.MinNewLabels) return "labels";
        if (_options.IntervalMinutes > 0 && added > 0 && _time.GetUtcNow() - _lastRun >= TimeSpan.FromMinutes(_options.IntervalMinutes)) return "schedule";
        return null;
    }

    private void Record(LearningOutcome outcome)
    {
        _last = outcome;
        if (outcome.Verdict == LearningVerdict.Skipped) return;
        Interlocked.Increment(ref _runs);
        if (outcome.Verdict == LearningVerdict.Accepted) Interlocked.Increment(ref _accepted);
        if (outcome.Verdict == LearningVerdict.Rejected) Interlocked.Increment(ref _rejected);
        LogOutcome(outcome.Verdict, outcome.Reason);
    }

    private void LowerPriority()
    {
        // Thread.Priority is advisory on Linux; a per-thread nice value is what the scheduler honours.
        if (!OperatingSystem.IsLinux() || _options.Nice == 0) return;
        try
        {
            if (SetPriority(0 /* PRIO_PROCESS: a thread id selects one thread */, GetTid(), _options.Nice) != 0)
                LogNiceFailed(_options.Nice, Marshal.GetLastPInvokeError());
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            LogNiceFailed(_options.Nice, -1);
        }
    }

    [LibraryImport("libc", EntryPoint = "setpriority", SetLastError = true)]
    private static partial int SetPriority(int which, int who, int priority);

    [LibraryImport("libc", EntryPoint = "gettid")]
    private static partial int GetTid();

    [LoggerMessage(Level = LogLevel.Information, Message = "learning: {Verdict}: {Reason}")]
    private partial void LogOutcome(LearningVerdict verdict, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "learning: update failed")]
    private partial void LogUpdateFailed(Exception e);

    [LoggerMessage(Level = LogLevel.Warning, Message = "learning: could not lower the learner thread to nice {Nice} (errno {Errno}); it runs at normal priority")]
    private partial void LogNiceFailed(int nice, int errno);

    public override void Dispose()
    {
        _wake.Dispose();
        base.Dispose();
    }
}
