using System;
using System.Buffers;
using System.Globalization;
using System.IO;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using System.Threading.Tasks;

namespace Checkups.Health.Probes;

/// <summary>
/// Just enough of RESP (the Redis serialization protocol) for a health probe: commands are sent as arrays of bulk
/// strings; replies are read defensively (line and bulk lengths bounded, unexpected types rejected).
/// </summary>
internal sealed class RespConnection : IDisposable
{
    private const int MaxLine = 64 * 1024;
    // INFO replication and INFO server are a few kilobytes; a probe reads no more than this of any reply.
    private const int MaxBulk = 1024 * 1024;

    private readonly NetworkStream _stream;
    private readonly byte[] _buffer = new byte[8192];
    private int _start;
    private int _end;

    public RespConnection(Socket socket) => _stream = new NetworkStream(socket, ownsSocket: true);

    public async ValueTask<Reply> CommandAsync(CancellationToken cancellationToken, params string[] arguments)
    {
        var command = new StringBuilder();
        command.Append(CultureInfo.InvariantCulture, $"*{arguments.Length}\r\n");
        foreach (string argument in arguments)
        {
            command.Append(CultureInfo.InvariantCulture, $"${Encoding.UTF8.GetByteCount(argument)}\r\n{argument}\r\n");
        }

        await _stream.WriteAsync(Encoding.UTF8.GetBytes(command.ToString()), cancellationToken).ConfigureAwait(false);
        return await ReadReplyAsync(cancellationToken).ConfigureAwait(false);
    }

    public void Dispose() => _stream.Dispose();

    private async ValueTask<Reply> ReadReplyAsync(CancellationToken cancellationToken)
    {
        string line = await ReadLineAsync(cancellationToken).ConfigureAwait(false);
        if (line.Length == 0)
        {
            throw new InvalidDataException("Redis sent an empty reply line.");
        }

        string rest = line[1..];
        switch (line[0])
        {
            case '+':
                return new Reply(ReplyKind.Simple, rest);
            case '-':
                return new Reply(ReplyKind.Error, rest);
            case ':':
                return new Reply(ReplyKind.Integer, rest);
            case '$':
                if (!int.TryParse(rest, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int length) || length < -1 || length > MaxBulk)
                {
                    throw new InvalidDataException($"Redis sent a bulk string length of '{rest}'.");
                }

                if (length == -1)
                {
                    return new Reply(ReplyKind.Null, string.Empty);
                }

                byte[] bulk = await ReadExactlyAsync(length + 2, cancellationToken).ConfigureAwait(false);
                if (bulk[length] != '\r' || bulk[length + 1] != '\n')
                {
                    throw new InvalidDataException("Redis sent a bulk string without its CRLF.");
                }

                return new Reply(ReplyKind.Bulk, Encoding.UTF8.GetString(bulk, 0, length));
            default:
                throw new InvalidDataException($"Redis sent an unexpected reply type '{line[0]}'.");
        }
    }

    private async ValueTask<string> ReadLineAsync(CancellationToken cancellationToken)
    {
        var line = new ArrayBufferWriter<byte>();
        while (true)
        {
            int newline = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
            if (newline >= 0)
            {
                line.Write(_buffer.AsSpan(_start, newline - _start));
                _start = newline + 1;
                var span = line.WrittenSpan;
                return Encoding.UTF8.GetString(span.Length > 0 && span[^1] == '\r' ? span[..^1] : span);
            }

            line.Write(_buffer.AsSpan(_start, _end - _start));
            if (line.WrittenCount > MaxLine)
            {
                throw new InvalidDataException("Redis sent a reply line longer than 64 KiB.");
            }

            await FillAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private async ValueTask<byte[]> ReadExactlyAsync(int count, CancellationToken cancellationToken)
    {
        var result = new byte[count];
        int copied = 0;
        while (copied < count)
        {
            if (_start == _end)
            {
                await FillAsync(cancellationToken).ConfigureAwait(false);
            }

            int take = Math.Min(count - copied, _end - _start);
            Buffer.BlockCopy(_buffer, _start, result, copied, take);
            _start += take;
            copied += take;
        }

        return result;
    }

    private async ValueTask FillAsync(CancellationToken cancellationToken)
    {
        _start = 0;
        _end = await _stream.ReadAsync(_buffer, cancellationToken).ConfigureAwait(false);
        if (_end == 0)
        {
            throw new EndOfStreamException("Redis closed the connection.");
        }
    }

    public enum ReplyKind
    {
        Simple,
        Error,
        Integer,
        Bulk,
        Null,
    }

    public readonly record struct Reply(ReplyKind Kind, string Text);
}
