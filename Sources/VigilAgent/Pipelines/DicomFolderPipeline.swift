import Foundation
import Logging
import ServiceLifecycle
import VigilImaging

/// A hot folder of DICOM files into an imaging model: each complete file is decoded (VOI stage),
/// fitted to the model's input (`ImagePreprocessing` from the input shape and the model metadata's
/// scale/mean/std), run, and its prediction published; the file then moves to `done/`, or to
/// `failed/` with the reason beside it (a file that does not decode, a model failure).
final class DicomFolderPipeline: Service, Sendable {
    let config: AgentConfiguration.Pipeline
    let hub: AgentHub
    let slot: ModelSlot
    let logger: Logger
    let preprocessing: ImagePreprocessing

    init(config: AgentConfiguration.Pipeline, hub: AgentHub, slot: ModelSlot, logger: Logger) throws(AgentError) {
        self.config = config
        self.hub = hub
        self.slot = slot
        self.logger = logger
        let model = slot.current
        let shape = model.metadata.inputs?.first?.shape ?? []
        // [1, C, H, W] (C = 1 or 3) or [1, H, W, C].
        let layout: ImagePreprocessing.Layout
        let (c, h, w): (Int, Int, Int)
        if shape.count == 4, [1, 3].contains(shape[1]) {
            layout = .nchw; (c, h, w) = (shape[1], shape[2], shape[3])
        } else if shape.count == 4, [1, 3].contains(shape[3]) {
            layout = .nhwc; (c, h, w) = (shape[3], shape[1], shape[2])
        } else {
            throw AgentError(.config, "pipeline \(config.name): \(model.path) input shape \(shape) is not an image [1, C, H, W] or [1, H, W, C] with C = 1 or 3")
        }
        let p = model.metadata.preprocessing
        preprocessing = ImagePreprocessing(stage: .voi, height: h, width: w, fit: .stretch,
                                           scale: Float(p?.scale ?? 1), mean: (p?.mean ?? [0]).map(Float.init),
                                           std: (p?.std ?? [1]).map(Float.init), layout: layout, channels: c)
    }

    func run() async throws {
        let hub = self.hub, slot = self.slot, logger = self.logger, name = config.name, pre = preprocessing
        let folder: HotFolder
        do {
            folder = try HotFolder(path: config.folder!) { path, image in
                let input = try pre.apply(to: image, frame: 0)
                let model = slot.current
                let t0 = ContinuousClock.now
                let scores = try model.run(input)
                let micros = Int((ContinuousClock.now - t0) / .microseconds(1))
                let now = Date()
                let record = PredictionRecord(pipeline: name, model: model.identity, labels: model.labels, scores: scores,
                                              accepted: true, windowStart: now, windowEnd: now, inferenceMicros: micros)
                // The handler runs on the folder's own thread: wait here so files are handled in order.
                let done = DispatchSemaphore(value: 0)
                Task {
                    await hub.prediction(record)
                    done.signal()
                }
                done.wait()
                logger.info("image classified", metadata: ["pipeline": "\(name)", "file": "\(path)", "label": "\(record.label ?? "-")"])
            }
        } catch {
            throw AgentError(.source, "pipeline \(name): \(error)")
        }
        let finished = DispatchSemaphore(value: 0)
        let thread = Thread {
            do { try folder.run() } catch { logger.error("hot folder stopped", metadata: ["pipeline": "\(name)", "error": "\(error)"]) }
            finished.signal()
        }
        thread.start()
        logger.info("watching folder", metadata: ["pipeline": "\(name)", "folder": "\(config.folder!)"])
        try? await gracefulShutdown()
        folder.cancel()
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async {
                finished.wait()
                c.resume()
            }
        }
    }
}
