import Foundation

/// The model a pipeline runs, swappable while the pipeline runs: SIGHUP loads the (possibly newly
/// configured) file into a fresh `LoadedModel` off the pipeline's path and `replace` swaps the reference; the pipeline
/// picks it up at its next window, so no sample is dropped and no window mixes two models.
public final class ModelSlot: @unchecked Sendable {  // every access to `model` goes through `lock`
    private let lock = NSLock()
    private var model: LoadedModel

    public init(_ model: LoadedModel) {
        self.model = model
    }

    /// The file the running model came from.
    public var path: String { current.path }

    public var current: LoadedModel { lock.withLock { model } }

    /// Swaps in `new`; returns the model it replaced.
    @discardableResult
    public func replace(with new: LoadedModel) -> LoadedModel {
        lock.withLock {
            let old = model
            model = new
            return old
        }
    }
}

// A LoadedModel is used by one pipeline task at a time (its interpreter's arena is not shared);
// crossing into that task once, through ModelSlot, is the only transfer.
extension LoadedModel: @unchecked Sendable {}
