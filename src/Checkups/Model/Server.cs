using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using Checkups.Health;

namespace Checkups.Model;

/// <summary>
/// One server of a cluster, as configured. Immutable; its live health state is kept apart and
/// survives upstream updates for as long as the same host:port stays in the upstream.
/// </summary>
public sealed class Server
{
    internal Server(
        string upstream,
        string cluster,
        int index,
        string host,
        int port,
        int weight,
        int maxFails,
        TimeSpan failTimeout,
        bool down,
        string? zone,
        IReadOnlyDictionary<string, string> metadata,
        ServerHealth health,
        string? unstableReason = null,
        string? writtenHost = null)
    {
        UnstableReason = unstableReason;
        Upstream = upstream;
        Cluster = cluster;
        Index = index;
        Host = host;
        Port = port;
        Key = FormatKey(host, port);
        WrittenAddress = writtenHost is null ? Key : FormatWritten(writtenHost, port);
        Weight = weight;
        MaxFails = maxFails;
        // "Never" has two spellings in .NET; one value keeps the arithmetic on it in one place.
        FailTimeout = failTimeout == System.Threading.Timeout.InfiniteTimeSpan ? TimeSpan.MaxValue : failTimeout;
        Down = down;
        Zone = zone;
        Metadata = metadata;
        Health = health;
    }

    /// <summary>Gets the name of the upstream the server belongs to.</summary>
    public string Upstream { get; }

    /// <summary>Gets the name of the cluster the server belongs to (a level number such as <c>1</c>, or a cluster name).</summary>
    public string Cluster { get; }

    /// <summary>Gets the host name or IP address (IPv6 without brackets).</summary>
    public string Host { get; }

    /// <summary>Gets the TCP port.</summary>
    public int Port { get; }

    /// <summary>Gets the server key, <c>host:port</c> (<c>[v6]:port</c> for IPv6 addresses).</summary>
    public string Key { get; }

    /// <summary>
    /// Gets the address as the configuration wrote it, in nginx's <c>server</c> form: the host as given (case kept, an IP
    /// literal not canonicalised, an IPv6 literal in brackets), a colon and the port. ketama hashes this text, as nginx's
    /// <c>hash … consistent</c> hashes the <c>server</c> line's text; <see cref="Key"/> is the identity.
    /// </summary>
    internal string WrittenAddress { get; }

    /// <summary>Gets the configured weight.</summary>
    public int Weight { get; }

    /// <summary>Gets how many failures within <see cref="FailTimeout"/> mark the server <c>err</c>; 0 = never.</summary>
    public int MaxFails { get; }

    /// <summary>
    /// Gets the passive failure window and the time a server stays <c>err</c>; <see cref="TimeSpan.MaxValue"/> for never
    /// (configured as that or as <see cref="System.Threading.Timeout.InfiniteTimeSpan"/>): failures are never forgotten, and
    /// an <c>err</c> server comes back only with a success (a heartbeat probe, feedback) or an update.
    /// </summary>
    public TimeSpan FailTimeout { get; }

    /// <summary>Gets whether the server is administratively off.</summary>
    public bool Down { get; }

    /// <summary>Gets why the server's source reports it degraded (selectable, reported <c>unstable</c>), or <see langword="null"/>.</summary>
    public string? UnstableReason { get; }

    /// <summary>Gets the locality zone, if any.</summary>
    public string? Zone { get; }

    /// <summary>Gets the server's tags.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Gets the position of the server inside its cluster.</summary>
    internal int Index { get; }

    /// <summary>Gets the live health state, shared by every snapshot that keeps this host:port.</summary>
    internal ServerHealth Health { get; }

    /// <summary>
    /// Gets whether a pick may choose the server now: it is not down, and neither passive accounting nor the heartbeat has
    /// it <c>err</c>. Lock-free; the clock is read only while a passive <c>err</c> runs.
    /// </summary>
    public bool IsSelectable
    {
        get
        {
            long now = 0;
            return ServerHealth.IsSelectable(this, ref now);
        }
    }

    /// <summary>Gets the calls to this server in flight now, counted by every caller that picks through the registry.</summary>
    public int InFlight => Health.InFlight;

    /// <inheritdoc />
    public override string ToString() => Key;

    /// <summary>
    /// The host as the server key spells it: brackets of an IPv6 literal dropped, and an IP address in its canonical form, so
    /// <c>::1</c> and <c>0:0:0:0:0:0:0:1</c>, or <c>127.0.0.1</c> and <c>127.000.000.001</c>, are one server.
    /// </summary>
    internal static string NormalizeHost(string host)
    {
        string trimmed = host.Trim();
        if (trimmed.Length > 2 && trimmed[0] == '[' && trimmed[^1] == ']')
        {
            trimmed = trimmed[1..^1];
        }

        // Only full dotted quads and IPv6 literals: IPAddress also reads "1" or "10.1" as addresses, which host names are not.
        // Leading zeros are decimal (127.000.000.010 is 127.0.0.10), as nginx reads them, not octal as inet_aton does.
        var parts = trimmed.Split('.');
        if (parts.Length == 4 && Array.TrueForAll(parts, p => p.Length is > 0 and <= 3 && !p.AsSpan().ContainsAnyExceptInRange('0', '9') && int.Parse(p, CultureInfo.InvariantCulture) <= 255))
        {
            return string.Join('.', parts.Select(p => int.Parse(p, CultureInfo.InvariantCulture)));
        }

        if (trimmed.Contains(':', StringComparison.Ordinal) && IPAddress.TryParse(trimmed, out var address) && address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            return address.ToString();
        }

        return trimmed;
    }

    private static string FormatWritten(string host, int port)
    {
        string trimmed = host.Trim();
        return trimmed.Contains(':', StringComparison.Ordinal) && !trimmed.StartsWith('[')
            ? string.Create(CultureInfo.InvariantCulture, $"[{trimmed}]:{port}")
            : string.Create(CultureInfo.InvariantCulture, $"{trimmed}:{port}");
    }

    internal static string FormatKey(string host, int port) =>
        host.Contains(':', StringComparison.Ordinal)
            ? string.Create(CultureInfo.InvariantCulture, $"[{host}]:{port}")
            : string.Create(CultureInfo.InvariantCulture, $"{host}:{port}");
}
