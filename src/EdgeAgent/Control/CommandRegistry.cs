namespace EdgeAgent.Daemon.Control;

/// <summary>
/// Every command verb the daemon answers, filled from the handlers registered in the service container
/// (any component can add verbs by registering an <see cref="ICommandHandler"/>). Lookup is exact and
/// case-sensitive: verbs are topic segments.
/// </summary>
public sealed class CommandRegistry
{
    private readonly Dictionary<string, ICommandHandler> _handlers = new(StringComparer.Ordinal);

    public CommandRegistry(IEnumerable<ICommandHandler> handlers)
    {
        foreach (var handler in handlers) Add(handler);
    }

    public IReadOnlyCollection<string> Verbs => _handlers.Keys;

    /// <summary>Adds a handler; a second handler for the same verb is a programming error.</summary>
    public void Add(ICommandHandler handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        if (string.IsNullOrWhiteSpace(handler.Verb))
            throw new ArgumentException($"{handler.GetType().Name} has an empty verb");
        if (!_handlers.TryAdd(handler.Verb, handler))
            throw new InvalidOperationException(
                $"verb '{handler.Verb}' is handled twice: {_handlers[handler.Verb].GetType().Name} and {handler.GetType().Name}");
    }

    public bool TryGet(string verb, out ICommandHandler handler) => _handlers.TryGetValue(verb, out handler!);

    /// <summary>
    /// Runs the handler for <paramref name="request"/>: an unknown verb and a handler that throws both come
    /// back as failures naming the verb, so a transport can always reply.
    /// </summary>
    public async ValueTask<CommandResult> DispatchAsync(CommandRequest request, CancellationToken cancellationToken)
    {
        if (!_handlers.TryGetValue(request.Verb, out var handler))
            return CommandResult.Fail($"unknown verb '{request.Verb}'; known: {string.Join(", ", _handlers.Keys.Order(StringComparer.Ordinal))}");
        try
        {
            return await handler.HandleAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e)
        {
            return CommandResult.Fail($"{request.Verb} failed: {e.Message}");
        }
    }
}
