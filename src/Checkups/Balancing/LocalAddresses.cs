using System;
using System.Collections.Generic;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;

namespace Checkups.Balancing;

/// <summary>This machine's addresses and names, read once: which servers are "on this machine" for local-first balancing.</summary>
internal static class LocalAddresses
{
    private static readonly Lazy<HashSet<IPAddress>> Addresses = new(Read);

    /// <summary>Whether a server's host is loopback, <c>localhost</c>, this machine's name, or one of its interface addresses. Never resolves names.</summary>
    public static bool Contains(string host)
    {
        if (IPAddress.TryParse(host, out var address))
        {
            return IPAddress.IsLoopback(address) || Addresses.Value.Contains(address);
        }

        return string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase)
            || string.Equals(host, Environment.MachineName, StringComparison.OrdinalIgnoreCase);
    }

    private static HashSet<IPAddress> Read()
    {
        var addresses = new HashSet<IPAddress>();
        try
        {
            foreach (var nic in NetworkInterface.GetAllNetworkInterfaces())
            {
                foreach (var unicast in nic.GetIPProperties().UnicastAddresses)
                {
                    addresses.Add(unicast.Address);
                }
            }
        }
        catch (NetworkInformationException)
        {
            // Interfaces cannot be listed here (a restricted sandbox): loopback and names still count.
        }
        catch (SocketException)
        {
        }

        return addresses;
    }
}
