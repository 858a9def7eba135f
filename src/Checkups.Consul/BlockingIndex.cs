namespace Checkups.Consul;

/// <summary>Consul's rules for the index of the next blocking query (the "Blocking Queries" section of its HTTP API docs).</summary>
internal static class BlockingIndex
{
    /// <summary>
    /// The index to send next, given the one sent and the one answered: an index that went backwards resets to 0 (a full
    /// read at once: the agent's data was replaced, as after a restart with an empty data dir); after an answer the index
    /// is never below 1, so a 0 in the answer does not make every following query return at once.
    /// </summary>
    public static ulong Next(ulong sent, ulong answered)
    {
        if (answered < sent)
        {
            return 0;
        }

        return answered < 1 ? 1 : answered;
    }
}
