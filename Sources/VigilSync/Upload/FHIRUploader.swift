import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL

/// Uploads the outbox as FHIR R4 transaction Bundles.
///
/// Each round takes the next `batchSize` entries (alerts first), POSTs one transaction Bundle to
/// the base URL and, on a 2xx answer, deletes every entry whose `response.status` is 2xx. Entries
/// answered 4xx go to the dead-letter table with the entry's OperationOutcome. A Bundle refused as
/// a whole with 400/409/412/422 is split in halves and resent until the poison entry is alone, which
/// is dead-lettered with the server's OperationOutcome; the rest go through. Other failures (5xx,
/// 401/403/404/408/429, timeouts, refused connections) are not the entries' fault: the round is
/// retried after an exponential backoff with jitter, and nothing is dead-lettered.
public final class FHIRUploader: Sendable {
    /// The outbox.
    public let store: OutboxStore
    /// The server.
    public let configuration: SyncConfiguration
    private let logger: Logger
    private let state = LockedBox(RunState())

    private struct RunState {
        var lastError: String?
        var consecutiveFailures = 0
    }

    /// An uploader; checks the configuration (URL scheme, readable secret files).
    public init(store: OutboxStore, configuration: SyncConfiguration,
                logger: Logger = Logger(label: "vigil.sync.uploader")) throws {
        try configuration.validate()
        self.store = store
        self.configuration = configuration
        self.logger = logger
    }

    /// Current progress.
    public var progress: UploadProgress {
        get throws {
            let s = try store.statistics()
            let r = state.value
            return UploadProgress(pendingCount: s.pendingCount, pendingBytes: s.pendingBytes,
                                  pendingAlerts: s.pendingByPriority[.alert] ?? 0, sent: s.sent,
                                  deadLettered: s.deadLetterCount, losses: s.losses, lastSuccess: s.lastSuccess,
                                  lastError: r.lastError, consecutiveFailures: r.consecutiveFailures)
        }
    }

    /// Uploads until cancelled. Storage errors are logged and retried like network errors, since the
    /// agent should keep running; only cancellation ends it.
    public func run() async throws {
        let client = try makeClient()
        var rng = SystemRandomNumberGenerator()
        let backoff = Backoff(base: configuration.backoffBase, max: configuration.backoffMax)
        while !Task.isCancelled {
            do {
                let handled = try await uploadBatch(client: client, timeout: configuration.requestTimeout)
                if handled == 0 { try await Task.sleep(nanoseconds: Self.ns(configuration.pollInterval)) }
            } catch is CancellationError {
                break
            } catch {
                let n = recordFailure(error)
                let wait = backoff.delay(attempt: n, using: &rng)
                logger.warning("upload failed, retrying", metadata: ["error": "\(error)", "attempt": "\(n)",
                                                                     "retry_in_s": "\(String(format: "%.2f", wait))"])
                do { try await Task.sleep(nanoseconds: Self.ns(wait)) } catch { break }
            }
        }
        try? await client.shutdown()
    }

    /// Uploads what is pending until the outbox is empty or `timeout` seconds passed (graceful
    /// shutdown; call after `run` was cancelled). Returns how many entries are still pending.
    @discardableResult
    public func drain(timeout: TimeInterval) async -> Int {
        let deadline = Date().addingTimeInterval(timeout)
        guard let client = try? makeClient() else { return (try? store.statistics().pendingCount) ?? -1 }
        var rng = SystemRandomNumberGenerator()
        let backoff = Backoff(base: configuration.backoffBase, max: configuration.backoffMax)
        while true {
            let left = deadline.timeIntervalSinceNow
            guard left > 0 else { break }
            do {
                if try await uploadBatch(client: client, timeout: min(configuration.requestTimeout, left)) == 0 { break }
            } catch {
                let n = recordFailure(error)
                let wait = min(backoff.delay(attempt: n, using: &rng), deadline.timeIntervalSinceNow)
                if wait <= 0 { break }
                try? await Task.sleep(nanoseconds: Self.ns(wait))
            }
        }
        try? await client.shutdown()
        return (try? store.statistics().pendingCount) ?? -1
    }

    /// One round: purge, report losses, send the next batch. Returns the entries handled (sent or
    /// dead-lettered); 0 when the outbox is empty. Throws on a failure worth retrying.
    public func uploadOnce() async throws -> Int {
        let client = try makeClient()
        do {
            let n = try await uploadBatch(client: client, timeout: configuration.requestTimeout)
            try? await client.shutdown()
            return n
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    private func recordFailure(_ error: any Error) -> Int {
        state.withValue { s in
            s.consecutiveFailures += 1
            s.lastError = "\(error)"
            return s.consecutiveFailures
        }
    }

    private static func ns(_ seconds: TimeInterval) -> UInt64 { UInt64(max(seconds, 0) * 1e9) }

    private func makeClient() throws -> HTTPClient {
        var tls: TLSConfiguration?
        if configuration.caFile != nil || configuration.clientCert != nil {
            var t = TLSConfiguration.makeClientConfiguration()
            do {
                if let ca = configuration.caFile {
                    t.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(ca))
                }
                if let cert = configuration.clientCert, let key = configuration.clientKey {
                    t.certificateChain = try NIOSSLCertificate.fromPEMFile(cert).map { .certificate($0) }
                    t.privateKey = .privateKey(try NIOSSLPrivateKey(file: key, format: .pem))
                }
            } catch {
                // The error text of NIOSSL names the file but never key material.
                throw SyncError(.configuration, "TLS files: \(error)")
            }
            tls = t
        }
        let config = HTTPClient.Configuration(
            tlsConfiguration: tls, redirectConfiguration: .disallow,
            timeout: .init(connect: .seconds(5), read: .milliseconds(Int64(configuration.requestTimeout * 1000))))
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: config)
    }

    private func uploadBatch(client: HTTPClient, timeout: TimeInterval) async throws -> Int {
        try store.purgeExpired()
        try store.enqueueStatusReportIfNeeded()
        let batch = try store.pendingBatch(limit: configuration.batchSize)
        guard !batch.isEmpty else { return 0 }
        let handled = try await send(batch, client: client, timeout: timeout)
        state.withValue { s in
            s.consecutiveFailures = 0
            s.lastError = nil
        }
        return handled
    }

    /// Sends entries as one transaction; returns how many were sent or dead-lettered.
    private func send(_ entries: [PendingEntry], client: HTTPClient, timeout: TimeInterval) async throws -> Int {
        var sendable: [(PendingEntry, OutboxItem)] = []
        var handled = 0
        for e in entries {
            if let item = e.item {
                sendable.append((e, item))
            } else {
                // A payload this build cannot decode would fail forever: park it, do not block.
                try store.deadLetter(e, status: 0, outcome: "local: stored payload cannot be decoded")
                handled += 1
            }
        }
        guard !sendable.isEmpty else { return handled }
        let bundle = FHIRMapping.transaction(sendable.map { FHIRMapping.bundleEntry(for: $0.1, subject: $0.0.subject) })
        let (status, body) = try await post(bundle, client: client, timeout: timeout)
        switch status {
        case 200...299:
            return handled + (try accept(response: body, for: sendable.map(\.0)))
        case 400, 409, 412, 422:
            if sendable.count == 1 {
                try store.deadLetter(sendable[0].0, status: status, outcome: Self.outcomeText(body))
                return handled + 1
            }
            // Atomic transaction refused as a whole: find the poison entry by halving.
            let half = sendable.count / 2
            let first = try await send(Array(sendable[..<half].map(\.0)), client: client, timeout: timeout)
            let second = try await send(Array(sendable[half...].map(\.0)), client: client, timeout: timeout)
            return handled + first + second
        default:
            throw SyncError(.transient, "HTTP \(status) from \(configuration.baseURL): \(Self.outcomeText(body).prefix(300))")
        }
    }

    /// Applies a transaction-response: 2xx entries are deleted, 4xx entries dead-lettered, anything
    /// else stays for the next round.
    private func accept(response body: Data, for entries: [PendingEntry]) throws -> Int {
        guard let json = try? JSONDecoder().decode(FHIRJSON.self, from: body),
              json["resourceType"]?.stringValue == "Bundle" else {
            throw SyncError(.badResponse, "\(configuration.baseURL): 2xx answer is not a Bundle")
        }
        let answers = json["entry"]?.arrayValue ?? []
        guard answers.count == entries.count else {
            throw SyncError(.badResponse, "\(configuration.baseURL): \(answers.count) entry responses for \(entries.count) entries")
        }
        var sent: [Int64] = []
        var handled = 0
        var retry = 0
        for (entry, answer) in zip(entries, answers) {
            let statusText = answer["response"]?["status"]?.stringValue ?? ""
            let code = Int(statusText.prefix(3)) ?? 0
            switch code {
            case 200...299:
                sent.append(entry.seq)
            case 400...499:
                let outcome = answer["response"]?["outcome"].flatMap { try? $0.encoded() }
                    .flatMap { String(data: $0, encoding: .utf8) } ?? "entry status \(statusText)"
                try store.deadLetter(entry, status: code, outcome: outcome)
                handled += 1
            default:
                retry += 1
            }
        }
        try store.markSent(sent)
        if retry > 0 { logger.warning("entries left for retry", metadata: ["count": "\(retry)"]) }
        return handled + sent.count
    }

    private func post(_ bundle: FHIRJSON, client: HTTPClient, timeout: TimeInterval) async throws -> (Int, Data) {
        let data: Data
        do { data = try bundle.encoded() } catch {
            throw SyncError(.invalidEvent, "bundle cannot be encoded: \(error)")
        }
        var request = HTTPClientRequest(url: configuration.baseURL.absoluteString)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/fhir+json")
        request.headers.add(name: "Accept", value: "application/fhir+json")
        if let token = try configuration.bearerToken() {
            request.headers.add(name: "Authorization", value: "Bearer \(token)")
        }
        request.body = .bytes(ByteBuffer(bytes: data))
        do {
            let response = try await client.execute(request, timeout: .milliseconds(Int64(timeout * 1000)))
            let body = try await response.body.collect(upTo: 64 << 20)
            return (Int(response.status.code), Data(body.readableBytesView))
        } catch let e as CancellationError {
            throw e
        } catch {
            throw SyncError(.transient, "\(configuration.baseURL): \(error)")
        }
    }

    private static func outcomeText(_ body: Data) -> String {
        String(data: body, encoding: .utf8) ?? "<\(body.count) bytes, not UTF-8>"
    }
}
