using System;
using System.Globalization;
using System.IO;
using System.Net;
using System.Net.Http;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Threading;
using System.Threading.Tasks;
using Grpc.Core;

namespace Checkups.Grpc;

/// <summary>
/// Lets a call's gRPC status reach Checkups' passive health. Grpc.Net.Client tells a balancer that a call ended when the
/// response headers arrive, before the status (sent in trailers) is known; this handler, placed in the channel's handler
/// chain, reads the status where it arrives (the trailers, or the headers of a trailers-only response) and ends the call's
/// Checkups lease with it: a status of the policy's <c>failureStatusCodes</c> is a failure of the server that answered.
/// </summary>
/// <remarks>
/// <see cref="CheckupsGrpc.CreateChannel"/> puts one in every channel it creates. For a channel built another way, set
/// <c>GrpcChannelOptions.HttpHandler = new CheckupsGrpcStatusHandler(new SocketsHttpHandler { EnableMultipleHttp2Connections = true })</c>,
/// or add it to a gRPC client factory's handlers. The handler sits below the channel's balancer, so it sees each attempt
/// (gRPC retries and hedges included) on the server it was sent to. Requests not picked by the <c>checkups</c> policy pass
/// through untouched. The cost is one wrapper around each response's content and its stream.
/// </remarks>
public sealed class CheckupsGrpcStatusHandler : DelegatingHandler
{
    /// <summary>Initializes a handler; set <see cref="DelegatingHandler.InnerHandler"/> before use.</summary>
    public CheckupsGrpcStatusHandler()
    {
    }

    /// <summary>Initializes a handler over <paramref name="innerHandler"/>.</summary>
    /// <param name="innerHandler">The handler that sends requests: a <see cref="SocketsHttpHandler"/>, or handlers over one (client-side balancing needs it).</param>
    public CheckupsGrpcStatusHandler(HttpMessageHandler innerHandler)
        : base(innerHandler)
    {
    }

    /// <inheritdoc />
    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return request.Options.TryGetValue(CheckupsPicker.TrackerKey, out var tracker)
            ? ObserveAsync(request, tracker, cancellationToken)
            : base.SendAsync(request, cancellationToken);
    }

    /// <summary>The status of a trailers-only response, or of an HTTP error without gRPC status (as Grpc.Net.Client maps it).</summary>
    internal static StatusCode? StatusOf(HttpResponseHeaders headers, HttpStatusCode httpStatus)
    {
        if (ReadStatus(headers) is { } status)
        {
            return status;
        }

        return httpStatus switch
        {
            HttpStatusCode.OK => null,
            HttpStatusCode.BadRequest => StatusCode.Internal,
            HttpStatusCode.Unauthorized => StatusCode.Unauthenticated,
            HttpStatusCode.Forbidden => StatusCode.PermissionDenied,
            HttpStatusCode.NotFound => StatusCode.Unimplemented,
            HttpStatusCode.TooManyRequests or HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout => StatusCode.Unavailable,
            _ => StatusCode.Unknown,
        };
    }

    /// <summary>The <c>grpc-status</c> in <paramref name="headers"/>, or <see langword="null"/>.</summary>
    internal static StatusCode? ReadStatus(HttpHeaders headers)
    {
        if (!headers.NonValidated.TryGetValues("grpc-status", out var values))
        {
            return null;
        }

        foreach (string value in values)
        {
            return int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int code) ? (StatusCode)code : StatusCode.Unknown;
        }

        return null;
    }

    private async Task<HttpResponseMessage> ObserveAsync(HttpRequestMessage request, CheckupsCallTracker tracker, CancellationToken cancellationToken)
    {
        // A failure to send is Grpc.Net.Client's to report (the tracker's Complete with the error).
        var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (StatusOf(response.Headers, response.StatusCode) is { } status)
        {
            tracker.OnStatus(status);
            return response;
        }

        tracker.AwaitStatus();
        response.Content = new StatusReadingContent(response, tracker);
        return response;
    }

    /// <summary>The response's content, read through <see cref="StatusReadingStream"/>; its headers are the original's.</summary>
    private sealed class StatusReadingContent : HttpContent
    {
        private readonly HttpContent _inner;
        private readonly HttpResponseMessage _response;
        private readonly CheckupsCallTracker _tracker;

        public StatusReadingContent(HttpResponseMessage response, CheckupsCallTracker tracker)
        {
            _inner = response.Content;
            _response = response;
            _tracker = tracker;
            foreach (var header in _inner.Headers.NonValidated)
            {
                // One value (content-type, in practice) is added as the string it is: no enumerable to box.
                if (header.Value.Count == 1)
                {
                    Headers.TryAddWithoutValidation(header.Key, header.Value.ToString());
                }
                else
                {
                    Headers.TryAddWithoutValidation(header.Key, header.Value);
                }
            }
        }

        /// <summary>The call ended: the status is in the trailers now, when the end of the body was read.</summary>
        public void Ended()
        {
            if (ReadStatus(_response.TrailingHeaders) is { } status)
            {
                _tracker.OnStatus(status);
            }
            else
            {
                _tracker.OnAbandoned();
            }
        }

        protected override async Task<Stream> CreateContentReadStreamAsync() =>
            new StatusReadingStream(await _inner.ReadAsStreamAsync().ConfigureAwait(false), this, _tracker);

        protected override async Task<Stream> CreateContentReadStreamAsync(CancellationToken cancellationToken) =>
            new StatusReadingStream(await _inner.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false), this, _tracker);

        protected override Stream CreateContentReadStream(CancellationToken cancellationToken) =>
            new StatusReadingStream(_inner.ReadAsStream(cancellationToken), this, _tracker);

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
            SerializeToStreamAsync(stream, context, CancellationToken.None);

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
        {
            var source = await CreateContentReadStreamAsync(cancellationToken).ConfigureAwait(false);
            await using (source.ConfigureAwait(false))
            {
                await source.CopyToAsync(stream, cancellationToken).ConfigureAwait(false);
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                // Grpc.Net.Client disposes the response when the call ends; a status not seen by then is read here.
                if (!_tracker.IsFinished)
                {
                    Ended();
                }

                _inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }

    /// <summary>The response body as Grpc.Net.Client reads it; the read that finds its end reads the status.</summary>
    private sealed class StatusReadingStream : Stream
    {
        private readonly Stream _inner;
        private readonly StatusReadingContent _content;
        private readonly CheckupsCallTracker _tracker;

        public StatusReadingStream(Stream inner, StatusReadingContent content, CheckupsCallTracker tracker)
        {
            _inner = inner;
            _content = content;
            _tracker = tracker;
        }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            int read;
            try
            {
                read = _inner.Read(buffer);
            }
            catch (Exception ex) when (Failed(ex))
            {
                throw;
            }

            return Counted(read, buffer.Length);
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            ValueTask<int> pending;
            try
            {
                pending = _inner.ReadAsync(buffer, cancellationToken);
            }
            catch (Exception ex) when (Failed(ex))
            {
                throw;
            }

            return pending.IsCompletedSuccessfully
                ? new ValueTask<int>(Counted(pending.Result, buffer.Length))
                : AwaitRead(pending, buffer.Length);
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _inner.Dispose();
            }

            base.Dispose(disposing);
        }

        public override async ValueTask DisposeAsync()
        {
            await _inner.DisposeAsync().ConfigureAwait(false);
            await base.DisposeAsync().ConfigureAwait(false);
        }

        [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
        private async ValueTask<int> AwaitRead(ValueTask<int> pending, int asked)
        {
            int read;
            try
            {
                read = await pending.ConfigureAwait(false);
            }
            catch (Exception ex) when (Failed(ex))
            {
                throw;
            }

            return Counted(read, asked);
        }

        /// <summary>A read of nothing into a non-empty buffer is the end of the body: the trailers have arrived.</summary>
        private int Counted(int read, int asked)
        {
            if (read == 0 && asked > 0 && !_tracker.IsFinished)
            {
                _content.Ended();
            }

            return read;
        }

        /// <summary>Records why reading failed; never catches (an exception filter that returns false).</summary>
        private bool Failed(Exception error)
        {
            _tracker.OnReadFailed(error);
            return false;
        }
    }
}
