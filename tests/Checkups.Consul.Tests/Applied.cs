using System;
using System.Threading.Tasks;
using Checkups.Registry;

namespace Checkups.Consul.Tests;

/// <summary>Waits for a watch's change to reach the registry, through its <c>Changed</c> event.</summary>
internal static class Applied
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    /// <summary>Runs <paramref name="change"/> and waits (bounded) until the registry applied a change from the watch of <paramref name="upstream"/>.</summary>
    public static async Task AfterAsync(UpstreamRegistry registry, string upstream, Func<Task> change)
    {
        var applied = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnChanged(object? sender, UpstreamsChangedEventArgs e)
        {
            if (e.Source == "consul:" + upstream)
            {
                applied.TrySetResult();
            }
        }

        registry.Changed += OnChanged;
        try
        {
            await change();
            await applied.Task.WaitAsync(Bound);
        }
        finally
        {
            registry.Changed -= OnChanged;
        }
    }
}
