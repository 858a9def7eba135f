using System;
using System.Collections.Generic;

namespace Checkups.Configuration;

/// <summary>The active health check of one upstream (lua-resty-checkups: <c>enable</c>, <c>typ</c>, <c>sensibility</c>, <c>http_opts</c>).</summary>
public sealed class HeartbeatOptions
{
    /// <summary>Gets or sets whether the upstream is probed.</summary>
    /// <value>Default <see langword="null"/>: <see cref="CheckupsOptions.HeartbeatEnabled"/> decides.</value>
    public bool? Enabled { get; set; }

    /// <summary>
    /// Gets or sets the probe: <c>tcp</c>, <c>http</c>, <c>redis</c>, <c>mysql</c>, or the type of a probe registered with
    /// <c>AddHealthProbe</c>.
    /// </summary>
    /// <value>Default <c>tcp</c>.</value>
    public string Type { get; set; } = ProbeTypes.Tcp;

    /// <summary>Gets or sets how many consecutive failed probes turn a server's status to <c>err</c>; one success resets the count.</summary>
    /// <value>Default 1.</value>
    public int Sensibility { get; set; } = 1;

    /// <summary>Gets the options of the <c>http</c> probe.</summary>
    /// <value>Default <c>GET /</c>, 2xx and 3xx alive.</value>
    public HttpProbeOptions Http { get; } = new();

    /// <summary>Gets the options of the <c>redis</c> probe.</summary>
    /// <value>Default no authentication.</value>
    public RedisProbeOptions Redis { get; } = new();

    /// <summary>Gets the options of the <c>mysql</c> probe.</summary>
    /// <value>Default handshake only.</value>
    public MySqlProbeOptions MySql { get; } = new();
}

/// <summary>The names of the built-in probes of <see cref="HeartbeatOptions.Type"/>.</summary>
public static class ProbeTypes
{
    /// <summary>A TCP connect within the timeout.</summary>
    public const string Tcp = "tcp";

    /// <summary>An HTTP request whose status code decides.</summary>
    public const string Http = "http";

    /// <summary>Redis: PING, then INFO replication and server.</summary>
    public const string Redis = "redis";

    /// <summary>MySQL/MariaDB: the server's handshake, optionally a login.</summary>
    public const string MySql = "mysql";
}

/// <summary>Options of the <c>http</c> probe.</summary>
public sealed class HttpProbeOptions
{
    /// <summary>Gets or sets the request method.</summary>
    /// <value>Default <c>GET</c>.</value>
    public string Method { get; set; } = "GET";

    /// <summary>Gets or sets the request path, with any query (lua <c>query</c>).</summary>
    /// <value>Default <c>/</c>.</value>
    public string Path { get; set; } = "/";

    /// <summary>Gets or sets the Host header.</summary>
    /// <value>Default <see langword="null"/>: the server's host:port.</value>
    public string? Host { get; set; }

    /// <summary>
    /// Gets the status codes with an explicit verdict, as lua-resty-checkups' <c>statuses</c> map: <c>"500": false</c> makes 500 a
    /// failure, <c>"404": true</c> makes 404 alive. Codes not listed are judged by <see cref="AliveStatuses"/>.
    /// </summary>
    /// <value>Default empty.</value>
    public IDictionary<string, bool> Statuses { get; } = new Dictionary<string, bool>(StringComparer.Ordinal);

    /// <summary>
    /// Gets the codes or classes that are alive (<c>2xx</c>, <c>3xx</c>, <c>200</c>…). When empty: every code is alive if
    /// <see cref="Statuses"/> lists any code (lua-resty-checkups' rule), else 2xx and 3xx are.
    /// </summary>
    /// <value>Default empty.</value>
    public IList<string> AliveStatuses { get; } = new List<string>();
}

/// <summary>Credentials a probe may log in with. Never logged or reported.</summary>
public abstract class ProbeCredentials
{
    /// <summary>Gets or sets the user name.</summary>
    /// <value>Default <see langword="null"/>.</value>
    public string? User { get; set; }

    /// <summary>Gets or sets the password.</summary>
    /// <value>Default <see langword="null"/>: no authentication.</value>
    public string? Password { get; set; }
}

/// <summary>Options of the <c>redis</c> probe: AUTH with <see cref="ProbeCredentials.Password"/> (and <see cref="ProbeCredentials.User"/> for ACL users).</summary>
public sealed class RedisProbeOptions : ProbeCredentials;

/// <summary>Options of the <c>mysql</c> probe: with a user, it logs in with mysql_native_password and requires OK.</summary>
public sealed class MySqlProbeOptions : ProbeCredentials;
