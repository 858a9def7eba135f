namespace Checkups.Configuration;

/// <summary>Which servers count as local to this process (from <see cref="CheckupsOptions"/>).</summary>
/// <param name="Zone">The process's zone, or <see langword="null"/>.</param>
/// <param name="PreferLocalAddresses">Whether servers on this machine's addresses are local.</param>
internal readonly record struct Locality(string? Zone, bool PreferLocalAddresses);
