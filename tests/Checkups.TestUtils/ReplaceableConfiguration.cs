using System;
using System.Collections.Generic;
using Microsoft.Extensions.Configuration;

namespace Checkups.TestUtils;

/// <summary>A configuration source whose whole content a test replaces, raising a reload as a file provider would.</summary>
public sealed class ReplaceableConfiguration : ConfigurationProvider, IConfigurationSource
{
    public ReplaceableConfiguration(IDictionary<string, string?> data) => Data = new Dictionary<string, string?>(data, StringComparer.OrdinalIgnoreCase);

    public IConfigurationProvider Build(IConfigurationBuilder builder) => this;

    public void Replace(IDictionary<string, string?> data)
    {
        Data = new Dictionary<string, string?>(data, StringComparer.OrdinalIgnoreCase);
        OnReload();
    }
}
