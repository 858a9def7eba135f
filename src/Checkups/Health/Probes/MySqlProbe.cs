using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Threading;
using System.Threading.Tasks;
using Checkups.Configuration;

namespace Checkups.Health.Probes;

/// <summary>
/// The <c>mysql</c> probe (MySQL and MariaDB): reads the server's initial handshake (protocol 10) and records the server
/// version and connection id; an error packet instead (too many connections, host blocked…) fails the probe with the
/// server's message. With a user configured it logs in with mysql_native_password (following an auth switch request to
/// that plugin) and requires OK, then sends COM_QUIT.
/// </summary>
internal sealed class MySqlProbe : IHealthProbe
{
    private const int MaxPacket = 16 * 1024 * 1024;

    /// <summary>The largest packet a probe reads from the server.</summary>
    private const int MaxReplyPacket = 64 * 1024;
    private const string NativePassword = "mysql_native_password";

    // CLIENT_LONG_PASSWORD | CLIENT_PROTOCOL_41 | CLIENT_SECURE_CONNECTION | CLIENT_PLUGIN_AUTH
    private const uint Capabilities = 0x00000001 | 0x00000200 | 0x00008000 | 0x00080000;

    public string Type => ProbeTypes.MySql;

    public async ValueTask<ProbeResult> ProbeAsync(ProbeContext context, CancellationToken cancellationToken)
    {
        var socket = await ProbeConnection.ConnectAsync(context.Server, cancellationToken).ConfigureAwait(false);
        using var stream = new NetworkStream(socket, ownsSocket: true);
        var (sequence, handshake) = await ReadPacketAsync(stream, cancellationToken).ConfigureAwait(false);
        if (handshake.Length > 0 && handshake[0] == 0xFF)
        {
            return ProbeResult.Failure(ErrorMessage(handshake));
        }

        if (handshake.Length == 0 || handshake[0] != 10)
        {
            return ProbeResult.Failure(handshake.Length == 0 ? "empty handshake" : $"unsupported protocol version {handshake[0]}");
        }

        var greeting = Greeting.Parse(handshake);
        var fields = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["server_version"] = greeting.Version,
            ["connection_id"] = greeting.ConnectionId.ToString(CultureInfo.InvariantCulture),
        };
        var credentials = context.Options.MySql;
        if (credentials.User is not { } user)
        {
            return ProbeResult.Ok(fields);
        }

        byte[] login = HandshakeResponse(user, Scramble(credentials.Password, greeting.Scramble));
        await WritePacketAsync(stream, ++sequence, login, cancellationToken).ConfigureAwait(false);
        (sequence, var reply) = await ReadPacketAsync(stream, cancellationToken).ConfigureAwait(false);
        if (reply.Length > 0 && reply[0] == 0xFE)
        {
            // Auth switch request: plugin name, NUL, new scramble.
            int end = Array.IndexOf(reply, (byte)0, 1);
            string plugin = Encoding.ASCII.GetString(reply, 1, (end < 0 ? reply.Length : end) - 1);
            if (plugin != NativePassword || end < 0 || reply.Length - end - 1 < 20)
            {
                return ProbeResult.Failure($"unsupported authentication plugin '{plugin}'", fields);
            }

            byte[] scramble = reply.AsSpan(end + 1, 20).ToArray();
            await WritePacketAsync(stream, ++sequence, Scramble(credentials.Password, scramble), cancellationToken).ConfigureAwait(false);
            (sequence, reply) = await ReadPacketAsync(stream, cancellationToken).ConfigureAwait(false);
        }

        if (reply.Length > 0 && reply[0] == 0xFF)
        {
            return ProbeResult.Failure(ErrorMessage(reply), fields);
        }

        if (reply.Length == 0 || reply[0] != 0x00)
        {
            return ProbeResult.Failure($"unexpected reply to the login (0x{(reply.Length == 0 ? 0 : reply[0]):X2})", fields);
        }

        await WritePacketAsync(stream, 0, new byte[] { 0x01 }, cancellationToken).ConfigureAwait(false);
        return ProbeResult.Ok(fields);
    }

    /// <summary>mysql_native_password: SHA1(password) XOR SHA1(scramble + SHA1(SHA1(password))); empty for no password.</summary>
    internal static byte[] Scramble(string? password, ReadOnlySpan<byte> scramble)
    {
        if (string.IsNullOrEmpty(password))
        {
            return Array.Empty<byte>();
        }

#pragma warning disable CA5350 // The protocol defines this hash; it is not used for our own security.
        byte[] stage1 = SHA1.HashData(Encoding.UTF8.GetBytes(password));
        byte[] stage2 = SHA1.HashData(stage1);
        byte[] salted = new byte[scramble.Length + stage2.Length];
        scramble.CopyTo(salted);
        stage2.CopyTo(salted, scramble.Length);
        byte[] mask = SHA1.HashData(salted);
#pragma warning restore CA5350
        for (int i = 0; i < stage1.Length; i++)
        {
            stage1[i] ^= mask[i];
        }

        return stage1;
    }

    private static byte[] HandshakeResponse(string user, byte[] authentication)
    {
        using var payload = new MemoryStream();
        Span<byte> header = stackalloc byte[32];
        BinaryPrimitives.WriteUInt32LittleEndian(header, Capabilities);
        BinaryPrimitives.WriteUInt32LittleEndian(header[4..], MaxPacket);
        header[8] = 33; // utf8_general_ci; bytes 9..31 stay zero
        payload.Write(header);
        payload.Write(Encoding.UTF8.GetBytes(user));
        payload.WriteByte(0);
        payload.WriteByte((byte)authentication.Length);
        payload.Write(authentication);
        payload.Write(Encoding.ASCII.GetBytes(NativePassword));
        payload.WriteByte(0);
        return payload.ToArray();
    }

    /// <summary>An ERR packet: 0xFF, code (2 bytes), optional '#' and SQL state (5 bytes), message.</summary>
    private static string ErrorMessage(byte[] packet)
    {
        if (packet.Length < 3)
        {
            return "malformed error packet";
        }

        int code = BinaryPrimitives.ReadUInt16LittleEndian(packet.AsSpan(1));
        int text = packet.Length > 3 && packet[3] == (byte)'#' ? Math.Min(9, packet.Length) : 3;
        return string.Create(CultureInfo.InvariantCulture, $"{Encoding.UTF8.GetString(packet, text, packet.Length - text)} (error {code})");
    }

    private static async ValueTask<(byte Sequence, byte[] Payload)> ReadPacketAsync(Stream stream, CancellationToken cancellationToken)
    {
        byte[] header = new byte[4];
        await stream.ReadExactlyAsync(header, cancellationToken).ConfigureAwait(false);
        int length = header[0] | (header[1] << 8) | (header[2] << 16);
        if (length > MaxReplyPacket)
        {
            // A handshake, an OK or an error packet is a few hundred bytes: more is not a MySQL server worth buffering for.
            throw new InvalidDataException($"The server sent a packet of {length} bytes; a probe reads at most {MaxReplyPacket}.");
        }

        byte[] payload = new byte[length];
        await stream.ReadExactlyAsync(payload, cancellationToken).ConfigureAwait(false);
        return (header[3], payload);
    }

    private static async ValueTask WritePacketAsync(Stream stream, byte sequence, byte[] payload, CancellationToken cancellationToken)
    {
        byte[] packet = new byte[payload.Length + 4];
        packet[0] = (byte)payload.Length;
        packet[1] = (byte)(payload.Length >> 8);
        packet[2] = (byte)(payload.Length >> 16);
        packet[3] = sequence;
        payload.CopyTo(packet, 4);
        await stream.WriteAsync(packet, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The fields of the initial handshake (protocol 10) a probe needs.</summary>
    private readonly record struct Greeting(string Version, uint ConnectionId, byte[] Scramble)
    {
        public static Greeting Parse(byte[] packet)
        {
            int end = Array.IndexOf(packet, (byte)0, 1);
            if (end < 0 || packet.Length < end + 1 + 4 + 8 + 1)
            {
                throw new InvalidDataException("The server's handshake is truncated.");
            }

            string version = Encoding.ASCII.GetString(packet, 1, end - 1);
            int at = end + 1;
            uint connectionId = BinaryPrimitives.ReadUInt32LittleEndian(packet.AsSpan(at));
            at += 4;
            var scramble = new List<byte>(packet.AsSpan(at, 8).ToArray());
            at += 8 + 1 + 2; // scramble part 1, filler, capability flags (lower)
            if (packet.Length >= at + 1 + 2 + 2 + 1 + 10)
            {
                int authLength = packet[at + 5];
                at += 1 + 2 + 2 + 1 + 10; // character set, status, capability flags (upper), auth data length, reserved
                int part2 = Math.Max(13, authLength - 8) - 1; // the last byte is a NUL terminator
                if (packet.Length >= at + part2)
                {
                    scramble.AddRange(packet.AsSpan(at, part2).ToArray());
                }
            }

            return new Greeting(version, connectionId, scramble.ToArray());
        }
    }
}
