namespace Checkups.Consul.Tests;

/// <summary>The agent as an xunit fixture (the bench shares <c>ConsulAgent.cs</c> without xunit).</summary>
public partial class ConsulAgent : IAsyncLifetime
{
}
