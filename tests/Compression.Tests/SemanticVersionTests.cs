using EdgeAgent.Compression.Versioning;
using Xunit;

namespace EdgeAgent.Compression.Tests;

public class SemanticVersionTests
{
    [Fact]
    public void PrecedenceFollowsTheSpecExample()
    {
        string[] ordered = ["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2",
                            "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.1", "1.2.0", "1.10.0", "2.0.0"];
        for (int i = 0; i < ordered.Length; i++)
        {
            for (int j = 0; j < ordered.Length; j++)
            {
                var a = SemanticVersion.Parse(ordered[i]);
                var b = SemanticVersion.Parse(ordered[j]);
                Assert.Equal(Math.Sign(i.CompareTo(j)), Math.Sign(a.CompareTo(b)));
            }
        }
    }

    [Fact]
    public void BuildMetadataDoesNotAffectPrecedence()
    {
        var a = SemanticVersion.Parse("1.2.3+build.5");
        var b = SemanticVersion.Parse("1.2.3+other");
        Assert.Equal(0, a.CompareTo(b));
        Assert.NotEqual(a, b);
        Assert.Equal("1.2.3+build.5", a.ToString());
    }

    [Theory]
    [InlineData("1.2")]
    [InlineData("1.2.3.4")]
    [InlineData("01.2.3")]
    [InlineData("1.02.3")]
    [InlineData("v1.2.3")]
    [InlineData("1.2.3-")]
    [InlineData("1.2.3-01")]
    [InlineData("1.2.3-a..b")]
    [InlineData("1.2.3+")]
    [InlineData("1.2.3-al_pha")]
    [InlineData("")]
    [InlineData("99999999999999999999999.0.0")]
    public void RejectsMalformedVersions(string text)
    {
        Assert.False(SemanticVersion.TryParse(text, out _));
        Assert.Throws<FormatException>(() => SemanticVersion.Parse(text));
    }

    [Fact]
    public void LargeNumbersCompareNumerically()
    {
        Assert.True(SemanticVersion.Parse("1.0.0-rc.10") > SemanticVersion.Parse("1.0.0-rc.9"));
        Assert.True(SemanticVersion.Parse("18446744073709551615.0.0") > SemanticVersion.Parse("9.0.0"));
    }
}
