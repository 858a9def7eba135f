using System;
using System.Collections.Generic;
using System.Net.Http;

namespace Checkups.Http;

/// <summary>Per-request choices, set in <see cref="HttpRequestMessage.Options"/>.</summary>
public static class CheckupsRequestOptions
{
    /// <summary>The key hashing modes balance by, instead of the one the mode takes from the request (path, header).</summary>
    public static readonly HttpRequestOptionsKey<string> HashKey = new("Checkups.HashKey");

    /// <summary>The clusters to try, in order: names, or level numbers as text.</summary>
    public static readonly HttpRequestOptionsKey<IReadOnlyList<string>> ClusterOrder = new("Checkups.ClusterOrder");

    /// <summary>How many servers the request may try, instead of the upstream's <c>Try</c>.</summary>
    public static readonly HttpRequestOptionsKey<int> Try = new("Checkups.Try");

    /// <summary>The time after which the request stops trying further servers, instead of the upstream's <c>TryTimeout</c>.</summary>
    public static readonly HttpRequestOptionsKey<TimeSpan> TryTimeout = new("Checkups.TryTimeout");
}
