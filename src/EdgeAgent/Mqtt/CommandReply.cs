using System.Buffers;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace EdgeAgent.Daemon.Mqtt;

/// <summary>Writes <c>{"id","ok","error","result"}</c>. The id is echoed as the JSON value it arrived as.</summary>
public static class CommandReply
{
    public static byte[] Write(JsonElement? id, bool ok, string? error, JsonNode? result)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WritePropertyName("id");
            if (id is { } value) value.WriteTo(writer); else writer.WriteNullValue();
            writer.WriteBoolean("ok", ok);
            if (error is null) writer.WriteNull("error"); else writer.WriteString("error", error);
            writer.WritePropertyName("result");
            if (result is null) writer.WriteNullValue(); else result.WriteTo(writer);
            writer.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }
}
