using System.Buffers;
using System.Text;
using System.Text.Json;
using Xunit;

namespace EdgeAgent.Tests.Mqtt;

public sealed class CommandTests
{
    private static JsonElement Json(MQTTnet.MqttApplicationMessage m) => JsonDocument.Parse(m.Payload.ToArray()).RootElement;

    private static string IdText(JsonElement reply) =>
        reply.GetProperty("id") is { ValueKind: JsonValueKind.String } s ? s.GetString()! : reply.GetProperty("id").GetRawText();

    [Fact]
    public async Task EveryVerbAnswersWithTheRequestIdAndValidatesItsFields()
    {
        await using var broker = await MosquittoBroker.StartAsync();
        await using var device = new DeviceHarness(broker, new TestBundles(), "cmd-dev");
        await device.StartAsync();
        await using var op = await TestClient.ConnectAsync(broker);
        await op.SubscribeAsync("edgeagent/cmd-dev/reply/#");

        async Task<JsonElement> Ask(string verb, string json)
        {
            string id = JsonDocument.Parse(json).RootElement.GetProperty("id").GetString()!;
            await op.PublishAsync($"edgeagent/cmd-dev/cmd/{verb}", json);
            var reply = await op.WaitForAsync(m => m.Topic == $"edgeagent/cmd-dev/reply/{verb}" && IdText(Json(m)) == id, what: $"reply to {id}");
            return Json(reply);
        }

        var ping = await Ask("ping", """{"id":"p1"}""");
        Assert.True(ping.GetProperty("ok").GetBoolean());
        Assert.True(ping.GetProperty("result").GetProperty("pong").GetBoolean());
        var status = await Ask("status", """{"id":"s1"}""");
        Assert.Equal("5", status.GetProperty("result").GetProperty("protocol").GetString());
        Assert.Equal(128, (await Ask("config/get", """{"id":"g1","key":"Pipeline:WindowSize"}""")).GetProperty("result").GetProperty("value").GetInt32());
        Assert.True((await Ask("config/set", """{"id":"c1","key":"Pipeline:WindowSize","value":256}""")).GetProperty("ok").GetBoolean());
        Assert.Equal(256, (await Ask("config/get", """{"id":"g2","key":"Pipeline:WindowSize"}""")).GetProperty("result").GetProperty("value").GetInt32());
        var badSet = await Ask("config/set", """{"id":"c2","key":"Pipeline:WindowSize","value":"big"}""");
        Assert.False(badSet.GetProperty("ok").GetBoolean());
        Assert.Contains("Pipeline:WindowSize", badSet.GetProperty("error").GetString());
        Assert.Contains("'key' is required", (await Ask("config/set", """{"id":"c3","value":1}""")).GetProperty("error").GetString());
        Assert.True((await Ask("learn/pause", """{"id":"l1"}""")).GetProperty("ok").GetBoolean());
        Assert.True(device.Device.LearningPaused);
        Assert.True((await Ask("learn/resume", """{"id":"l2"}""")).GetProperty("ok").GetBoolean());
        Assert.False(device.Device.LearningPaused);
        Assert.True((await Ask("learn/now", """{"id":"l3"}""")).GetProperty("ok").GetBoolean());
        Assert.True((await Ask("label", """{"id":"b1","label":"bearing-wear"}""")).GetProperty("ok").GetBoolean());
        Assert.Equal((null, "bearing-wear"), device.Device.Labels.Single());
        Assert.Contains("field 'label' must be a string, got a number", (await Ask("label", """{"id":"b2","label":3}""")).GetProperty("error").GetString());
        Assert.Equal(1, (await Ask("reservoir/stats", """{"id":"r1"}""")).GetProperty("result").GetProperty("labelled").GetInt32());
        Assert.Equal(0, (await Ask("model/list", """{"id":"m1"}""")).GetProperty("result").GetProperty("models").GetArrayLength());
        Assert.Contains("unknown field 'verison'", (await Ask("model/rollback", """{"id":"m2","verison":"1"}""")).GetProperty("error").GetString());
        Assert.Contains("'sha256' (a published bundle) or 'version'", (await Ask("model/deploy", """{"id":"m3"}""")).GetProperty("error").GetString());
    }

    [Fact]
    public async Task Mqtt5ResponseTopicGetsTheReplyWithCorrelationData()
    {
        await using var broker = await MosquittoBroker.StartAsync();
        await using var device = new DeviceHarness(broker, new TestBundles(), "rt-dev");
        await device.StartAsync();
        await using var op = await TestClient.ConnectAsync(broker);
        await op.SubscribeAsync("ops/inbox/#");
        await op.PublishAsync("edgeagent/rt-dev/cmd/ping", Encoding.UTF8.GetBytes("""{"id":"rt1"}"""), responseTopic: "ops/inbox/42", correlation: [1, 2, 3, 42]);
        var reply = await op.WaitForAsync(m => m.Topic == "ops/inbox/42", what: "on the response topic");
        Assert.Equal([1, 2, 3, 42], reply.CorrelationData);
        Assert.Equal("rt1", Json(reply).GetProperty("id").GetString());
        Assert.True(Json(reply).GetProperty("ok").GetBoolean());
    }

    /// <summary>
    /// 1,000 malformed requests of every kind: each one that carries an id gets an error reply naming the problem, the
    /// ones without an id are logged, and the device keeps answering afterwards.
    /// </summary>
    [Fact]
    public async Task AThousandMalformedRequestsEachGetAnErrorAndTheDeviceStaysUp()
    {
        await using var broker = await MosquittoBroker.StartAsync();
        await using var device = new DeviceHarness(broker, new TestBundles(), "fuzz-dev");
        await device.StartAsync();
        await using var op = await TestClient.ConnectAsync(broker);
        await op.SubscribeAsync("edgeagent/fuzz-dev/reply/#");

        var random = new Random(20261123);
        var expected = new Dictionary<string, string>(); // id → a word the error must contain
        int withoutId = 0;
        string[] verbs = ["ping", "status", "config/get", "config/set", "model/list", "model/deploy", "model/rollback", "learn/now", "label", "reservoir/stats"];
        for (int i = 0; i < 1000; i++)
        {
            string id = "m" + i;
            string verb = verbs[random.Next(verbs.Length)];
            byte[] payload;
            switch (i % 10)
            {
                case 0: // random bytes that cannot be JSON
                    payload = new byte[random.Next(0, 3000)];
                    random.NextBytes(payload);
                    if (payload.Length > 0) payload[0] = 0xFF;
                    withoutId++;
                    break;
                case 1: // broken JSON after the id
                    payload = Encoding.UTF8.GetBytes($$"""{"id":"{{id}}","key":[1,2,{"a":""");
                    expected[id] = "not valid JSON";
                    break;
                case 2: // wrong types
                    (verb, string body, string word) = (random.Next(4)) switch
                    {
                        0 => ("config/get", $$"""{"id":"{{id}}","key":5}""", "'key' must be a string"),
                        1 => ("label", $$"""{"id":"{{id}}","label":[true]}""", "'label' must be a string"),
                        2 => ("model/rollback", $$"""{"id":"{{id}}","version":false}""", "'version' must be a string"),
                        _ => ("ping", $$"""{"id":{{i}}}""", "'id' must be a string"),
                    };
                    payload = Encoding.UTF8.GetBytes(body);
                    expected[body.Contains("\"id\":\"") ? id : i.ToString()] = word;
                    break;
                case 3: // huge strings
                    payload = Encoding.UTF8.GetBytes($$"""{"id":"{{id}}","label":"{{new string('x', random.Next(20_000, 300_000))}}"}""");
                    verb = "label";
                    expected[id] = "bytes, at most";
                    break;
                case 4: // unknown verbs, one and several levels
                    verb = random.Next(2) == 0 ? "reboot" : "model/explode/now";
                    payload = Encoding.UTF8.GetBytes($$"""{"id":"{{id}}"}""");
                    expected[id] = "unknown verb";
                    break;
                case 5: // no id at all
                    payload = Encoding.UTF8.GetBytes("""{"label":"a"}""");
                    withoutId++;
                    break;
                case 6: // not an object
                    payload = Encoding.UTF8.GetBytes(random.Next(2) == 0 ? $$"""[{"id":"{{id}}"}]""" : "\"just a string\"");
                    withoutId++;
                    break;
                case 7: // unknown fields and missing required ones
                    (verb, string body7, string word7) = random.Next(2) == 0
                        ? ("ping", $$"""{"id":"{{id}}","force":true}""", "unknown field 'force'")
                        : ("label", $$"""{"id":"{{id}}"}""", "'label' is required");
                    payload = Encoding.UTF8.GetBytes(body7);
                    expected[id] = word7;
                    break;
                case 8: // nesting deeper than allowed, after the id
                    payload = Encoding.UTF8.GetBytes($$"""{"id":"{{id}}","a":{{new string('[', 200)}}{{new string(']', 200)}}}""");
                    expected[id] = "not valid JSON";
                    break;
                default: // invalid UTF-8 inside a value, and empty ids
                    if (random.Next(2) == 0)
                    {
                        payload = [.. Encoding.UTF8.GetBytes($$"""{"id":"{{id}}","label":"""), (byte)'"', 0xC3, 0x28, (byte)'"', (byte)'}'];
                        expected[id] = "not valid UTF-8";
                    }
                    else
                    {
                        payload = Encoding.UTF8.GetBytes("""{"id":""}""");
                        expected[""] = "'id' must be 1..128";
                    }
                    break;
            }
            await op.PublishAsync($"edgeagent/fuzz-dev/cmd/{verb}", payload);
        }

        var deadline = DateTime.UtcNow.AddSeconds(60);
        Dictionary<string, JsonElement> replies = [];
        while (DateTime.UtcNow < deadline)
        {
            replies = op.Received.Select(Json).GroupBy(IdText).ToDictionary(g => g.Key, g => g.First());
            if (expected.Keys.All(replies.ContainsKey)) break;
            await Task.Delay(50);
        }
        var missing = expected.Keys.Where(k => !replies.ContainsKey(k)).ToList();
        Assert.True(missing.Count == 0, $"{missing.Count} requests with an id got no reply, e.g. {string.Join(", ", missing.Take(5))}");
        foreach (var (id, word) in expected)
        {
            var reply = replies[id];
            Assert.False(reply.GetProperty("ok").GetBoolean());
            string error = reply.GetProperty("error").GetString()!;
            Assert.True(error.Contains(word) || error.Contains("device busy"), $"reply to {id}: '{error}' does not mention '{word}'");
        }
        Assert.True(replies.Values.All(r => !r.GetProperty("ok").GetBoolean()), "a malformed request was answered as if it succeeded");
        // Without an id there is no one to answer: each such request leaves a log line instead.
        var logDeadline = DateTime.UtcNow.AddSeconds(10);
        while (device.Log.Lines.Count(l => l.Contains("without a usable id")) < withoutId && DateTime.UtcNow < logDeadline) await Task.Delay(50);
        Assert.Equal(withoutId, device.Log.Lines.Count(l => l.Contains("without a usable id")));

        op.Received.Clear();
        await op.PublishAsync("edgeagent/fuzz-dev/cmd/ping", """{"id":"after"}""");
        var pong = await op.WaitForAsync(m => IdText(Json(m)) == "after", what: "ping after the flood");
        Assert.True(Json(pong).GetProperty("ok").GetBoolean());
        Assert.True(device.Plane.Connection.IsConnected);
        Assert.Equal(0, device.Plane.Connection.Reconnects);
    }
}
