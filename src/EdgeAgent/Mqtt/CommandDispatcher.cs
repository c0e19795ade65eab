using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace EdgeAgent.Daemon.Mqtt;

/// <summary>
/// Turns messages on <c>edgeagent/{d}/cmd/{verb}</c> into handler calls and replies. Requests are checked in a fixed
/// order (size, JSON, shape, id, verb, then the handler's own argument checks) and every failure names what is wrong.
/// Requests wait in a bounded queue served by one worker, so a flood of requests costs a bounded amount of memory and
/// one thread, never the inference loop's time.
/// </summary>
public sealed class CommandDispatcher
{
    private const int MaxIdLength = 128;
    private const int MaxVerbLength = 64;
    private const int QueueCapacity = 256;

    private readonly MqttConnection _connection;
    private readonly CommandRegistry _registry;
    private readonly int _maxBytes;
    private readonly ILogger _logger;
    private readonly Channel<IncomingMessage> _queue =
        Channel.CreateBounded<IncomingMessage>(new BoundedChannelOptions(QueueCapacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
    private long _handled, _refused;

    public long Handled => Interlocked.Read(ref _handled);
    public long Refused => Interlocked.Read(ref _refused);

    public CommandDispatcher(MqttConnection connection, CommandRegistry registry, int maxBytes, ILogger logger)
    {
        _connection = connection;
        _registry = registry;
        _maxBytes = maxBytes;
        _logger = logger;
        connection.OnMessage(OnMessageAsync);
    }

    public Task SubscribeAsync(CancellationToken cancellationToken) => _connection.Subscribe(_connection.Topics.CommandFilter, cancellationToken);

    private async Task OnMessageAsync(IncomingMessage message)
    {
        if (!message.Topic.StartsWith(_connection.Topics.CommandPrefix, StringComparison.Ordinal)) return;
        if (message.Retained)
        {
            // A retained command would run again on every reconnect; it is someone's mistake, not a request.
            _logger.LogWarning("ignoring retained command on {Topic}", message.Topic);
            return;
        }
        if (!_queue.Writer.TryWrite(message))
            await ReplyAsync(message, Verb(message), TryReadId(message.Payload), ok: false, "device busy: too many pending requests", null).ConfigureAwait(false);
    }

    /// <summary>Serves the queue until <paramref name="stopping"/> fires.</summary>
    public async Task RunAsync(CancellationToken stopping)
    {
        try
        {
            await foreach (var message in _queue.Reader.ReadAllAsync(stopping).ConfigureAwait(false))
            {
                try { await DispatchAsync(message, stopping).ConfigureAwait(false); }
                catch (OperationCanceledException) when (stopping.IsCancellationRequested) { throw; }
                catch (Exception e) { _logger.LogError(e, "command on {Topic} failed unexpectedly", message.Topic); }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested) { }
    }

    internal async Task DispatchAsync(IncomingMessage message, CancellationToken cancellationToken)
    {
        string verb = Verb(message);
        JsonElement? id = TryReadId(message.Payload);
        string? problem = null;
        JsonDocument? document = null;
        try
        {
            if (message.Payload.Length > _maxBytes)
                problem = $"request is {message.Payload.Length} bytes, at most {_maxBytes} allowed";
            else if (message.Payload.Length == 0)
                problem = "request is empty; expected a JSON object with an 'id'";
            else if (!System.Text.Unicode.Utf8.IsValid(message.Payload))
                problem = "request is not valid UTF-8 (JSON text must be)";
            else
            {
                try
                {
                    document = JsonDocument.Parse(message.Payload, new JsonDocumentOptions { MaxDepth = 32 });
                }
                catch (JsonException e)
                {
                    problem = $"request is not valid JSON: {FirstSentence(e.Message)}";
                }
            }
            if (problem is null)
            {
                var root = document!.RootElement;
                if (root.ValueKind != JsonValueKind.Object)
                    problem = $"request must be a JSON object, got {CommandRequest.Kind(root)}";
                else if (!root.TryGetProperty("id", out var idValue))
                    problem = "request has no field 'id'";
                else if (idValue.ValueKind != JsonValueKind.String)
                    problem = $"field 'id' must be a string, got {CommandRequest.Kind(idValue)}";
                else if (idValue.GetString() is not { Length: > 0 and <= MaxIdLength })
                    problem = $"field 'id' must be 1..{MaxIdLength} characters long";
                else if (verb.Length > MaxVerbLength || !_registry.TryGet(verb, out _))
                    problem = $"unknown verb '{CommandRequest.Truncate(verb)}'; known verbs: {string.Join(", ", _registry.Verbs)}";
            }
            if (problem is not null)
            {
                Interlocked.Increment(ref _refused);
                await ReplyAsync(message, verb, id, ok: false, problem, null).ConfigureAwait(false);
                return;
            }
            var request = new CommandRequest(verb, document!.RootElement.GetProperty("id").GetString()!, document.RootElement);
            _registry.TryGet(verb, out var handler);
            try
            {
                var result = await handler(request, cancellationToken).ConfigureAwait(false);
                Interlocked.Increment(ref _handled);
                await ReplyAsync(message, verb, id, ok: true, null, result).ConfigureAwait(false);
            }
            catch (CommandException e)
            {
                Interlocked.Increment(ref _refused);
                await ReplyAsync(message, verb, id, ok: false, e.Message, null).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                Interlocked.Increment(ref _refused);
                _logger.LogError(e, "command {Verb} (id {Id}) failed", verb, request.Id);
                await ReplyAsync(message, verb, id, ok: false, $"{verb} failed: {e.Message}", null).ConfigureAwait(false);
            }
        }
        finally
        {
            document?.Dispose();
        }
    }

    private async Task ReplyAsync(IncomingMessage request, string verb, JsonElement? id, bool ok, string? error, System.Text.Json.Nodes.JsonNode? result)
    {
        if (id is null)
        {
            // Nobody to answer: the log is the only place the problem can go.
            _logger.LogWarning("command on {Topic} without a usable id refused: {Problem}", CommandRequest.Truncate(request.Topic), error ?? "no id");
            return;
        }
        byte[] reply = CommandReply.Write(id, ok, error, result);
        string replyVerb = verb.Length is > 0 and <= MaxVerbLength ? verb : "invalid";
        bool sent = await _connection.PublishAsync(new OutboundMessage(_connection.Topics.Reply(replyVerb), reply, Qos: 1)).ConfigureAwait(false);
        if (request.ResponseTopic is { Length: > 0 } responseTopic && IsPublishableTopic(responseTopic))
            sent &= await _connection.PublishAsync(new OutboundMessage(responseTopic, reply, Qos: 1, CorrelationData: request.CorrelationData)).ConfigureAwait(false);
        if (!sent) _logger.LogWarning("reply to {Verb} (id {Id}) could not be sent (offline)", verb, id.Value.ToString());
    }

    private string Verb(IncomingMessage message) =>
        message.Topic.Length > _connection.Topics.CommandPrefix.Length ? message.Topic[_connection.Topics.CommandPrefix.Length..] : "";

    private static bool IsPublishableTopic(string topic) => !topic.Contains('+') && !topic.Contains('#') && topic.Length <= 1024;

    /// <summary>
    /// Finds a top-level "id" with a forward-only reader, so broken JSON after the id, or a payload too large to parse,
    /// still gets a reply. Ids that are strings or numbers count; anything else means there is no one to answer.
    /// </summary>
    internal static JsonElement? TryReadId(ReadOnlySpan<byte> payload)
    {
        var reader = new Utf8JsonReader(payload, new JsonReaderOptions { MaxDepth = 64 });
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return null;
            while (reader.Read())
            {
                if (reader.TokenType == JsonTokenType.EndObject) return null;
                if (reader.TokenType != JsonTokenType.PropertyName) return null;
                bool isId = reader.ValueTextEquals("id"u8);
                if (!reader.Read()) return null;
                if (isId)
                {
                    if (reader.TokenType is not (JsonTokenType.String or JsonTokenType.Number)) return null;
                    if (reader.ValueSpan.Length > 4 * MaxIdLength) return null;
                    using var id = JsonDocument.Parse(Encoding.UTF8.GetBytes(reader.TokenType == JsonTokenType.String
                        ? JsonSerializerString(reader.GetString()!) : Encoding.UTF8.GetString(reader.ValueSpan)));
                    return id.RootElement.Clone();
                }
                reader.Skip();
            }
        }
        catch (JsonException) { }
        catch (InvalidOperationException) { }
        return null;
    }

    private static string JsonSerializerString(string value)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer)) writer.WriteStringValue(value);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static string FirstSentence(string message)
    {
        int end = message.IndexOf(". ", StringComparison.Ordinal);
        return end > 0 ? message[..(end + 1)] : message;
    }
}
