using Microsoft.Extensions.DependencyInjection;

namespace Checkups.DependencyInjection;

/// <summary>Returned by <c>AddCheckups</c>, for further Checkups registrations.</summary>
public interface ICheckupsBuilder
{
    /// <summary>Gets the service collection Checkups is registered in.</summary>
    IServiceCollection Services { get; }
}

/// <summary>The default <see cref="ICheckupsBuilder"/>.</summary>
internal sealed class CheckupsBuilder(IServiceCollection services) : ICheckupsBuilder
{
    public IServiceCollection Services { get; } = services;
}
