using System;
using System.Collections.Concurrent;
using System.Net.Http;
using System.Threading;
using System.Threading.Tasks;

namespace Checkups.Demo;

/// <summary>
/// Steady traffic through the HttpClient that Checkups balances: a few loops, each sending a GET every few
/// milliseconds and counting which backend answered (the body is its name) and what failed.
/// </summary>
internal sealed class Traffic
{
    private readonly HttpClient _client;
    private ConcurrentDictionary<string, int> _phase = new(StringComparer.Ordinal);
    private int _failed;
    private int _total;

    public Traffic(HttpClient client) => _client = client;

    /// <summary>Gets the requests that failed (every attempt failed): the demo's promise is zero.</summary>
    public int Failed => Volatile.Read(ref _failed);

    public int Total => Volatile.Read(ref _total);

    public string? LastError { get; private set; }

    /// <summary>Gets the answers per backend since the phase began.</summary>
    public ConcurrentDictionary<string, int> Phase => Volatile.Read(ref _phase);

    /// <summary>Starts counting a new phase; returns the counts of the one that ended.</summary>
    public ConcurrentDictionary<string, int> NewPhase() => Interlocked.Exchange(ref _phase, new ConcurrentDictionary<string, int>(StringComparer.Ordinal));

    public Task RunAsync(int loops, CancellationToken stop)
    {
        var tasks = new Task[loops];
        for (int i = 0; i < loops; i++)
        {
            tasks[i] = Task.Run(() => LoopAsync(stop), CancellationToken.None);
        }

        return Task.WhenAll(tasks);
    }

    private async Task LoopAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                string name = await _client.GetStringAsync("/", stop);
                Phase.AddOrUpdate(name, 1, static (_, count) => count + 1);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (HttpRequestException ex)
            {
                Interlocked.Increment(ref _failed);
                LastError = ex.Message;
            }

            Interlocked.Increment(ref _total);
            try
            {
                await Task.Delay(5, stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
