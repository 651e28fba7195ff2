// From a decoded DICOM frame to a model's input tensor: value stage (and window), channel count,
// resize with crop or pad, normalization, and layout.

/// How one DICOM frame becomes a model input tensor of shape `[1, C, H, W]` (NCHW) or
/// `[1, H, W, C]` (NHWC).
public struct ImagePreprocessing: Sendable, Equatable {
    /// How the frame is fitted to the target size.
    public enum Fit: String, Sendable, Equatable {
        /// Resize each axis to the target, ignoring aspect ratio.
        case stretch
        /// Keep the aspect ratio, resize so the target is covered, cut the overhang equally from both sides.
        case crop
        /// Keep the aspect ratio, resize to fit inside the target, fill the rest with `padValue`.
        case pad
    }

    /// Where the channel axis goes.
    public enum Layout: String, Sendable, Equatable {
        /// `[1, C, H, W]`.
        case nchw
        /// `[1, H, W, C]`.
        case nhwc
    }

    /// Which pixel values feed the model (see `PixelStage`); the VOI stage by default.
    public var stage: PixelStage
    /// A window that replaces the file's own at the VOI stage.
    public var window: Window?
    /// Target height (rows) in pixels.
    public var height: Int
    /// Target width (columns) in pixels.
    public var width: Int
    /// Crop, pad or stretch to the target size.
    public var fit: Fit
    /// Multiplies every value before mean/std (e.g. 1/255); applied first.
    public var scale: Float
    /// Per-channel mean subtracted after `scale` (one value for all channels, or one per channel).
    public var mean: [Float]
    /// Per-channel standard deviation divided by after the mean (one value, or one per channel).
    public var std: [Float]
    /// Channel axis placement.
    public var layout: Layout
    /// Output channels: 1 (colour becomes luminance 0.299 R + 0.587 G + 0.114 B) or 3 (grey repeated).
    public var channels: Int
    /// The value of padded tensor elements (after normalization).
    public var padValue: Float
    /// MONOCHROME1 images (low values bright) are flipped within their nominal value range so the
    /// model always sees MONOCHROME2 polarity (high values bright).
    public var invertMonochrome1: Bool

    /// A pipeline; defaults give VOI values resized to the target, unnormalized, NCHW, one channel.
    public init(stage: PixelStage = .voi, window: Window? = nil, height: Int, width: Int, fit: Fit = .stretch,
                scale: Float = 1, mean: [Float] = [0], std: [Float] = [1], layout: Layout = .nchw,
                channels: Int = 1, padValue: Float = 0, invertMonochrome1: Bool = true) {
        self.stage = stage
        self.window = window
        self.height = height
        self.width = width
        self.fit = fit
        self.scale = scale
        self.mean = mean
        self.std = std
        self.layout = layout
        self.channels = channels
        self.padValue = padValue
        self.invertMonochrome1 = invertMonochrome1
    }

    /// The tensor shape `apply` produces.
    public var outputShape: [Int] {
        layout == .nchw ? [1, channels, height, width] : [1, height, width, channels]
    }

    /// Runs the pipeline on frame `frame` (0-based) of `image`.
    public func apply(to image: DicomImage, frame: Int = 0) throws(ImagingError) -> [Float] {
        guard frame >= 0, frame < image.frames else {
            throw ImagingError(.invalidArgument, "frame \(frame) requested; the image has \(image.frames)")
        }
        var values = try image.frameValues(frame, stage: stage, window: window)
        if invertMonochrome1 && image.photometric == "MONOCHROME1" {
            // Nominal range of the stage: stored bits, or through the rescale (also the VOI output range).
            let r = stage == .stored ? image.storedRange() : image.modalityRange()
            let sum = r.min + r.max
            for i in values.indices { values[i] = sum - values[i] }
        }
        let planeSize = image.rows * image.columns
        let spp = image.samplesPerPixel
        var planes: [[Double]] = (0..<spp).map { s in (0..<planeSize).map { values[$0 * spp + s] } }
        return try apply(planes: &planes, height: image.rows, width: image.columns)
    }

    /// Runs the resize, crop/pad, normalization and layout steps on channel planes (each
    /// `height` x `width`, row-major); one plane is grey, three are R, G, B.
    public func apply(planes: inout [[Double]], height srcH: Int, width srcW: Int) throws(ImagingError) -> [Float] {
        guard height > 0, width > 0, height <= 1 << 14, width <= 1 << 14 else {
            throw ImagingError(.invalidArgument, "target size \(height) x \(width) is outside 1...16384")
        }
        guard channels == 1 || channels == 3 else {
            throw ImagingError(.invalidArgument, "channels is \(channels); must be 1 or 3")
        }
        guard (mean.count == 1 || mean.count == channels), (std.count == 1 || std.count == channels) else {
            throw ImagingError(.invalidArgument, "mean has \(mean.count) and std \(std.count) values for \(channels) channel(s)")
        }
        guard !std.contains(0) else { throw ImagingError(.invalidArgument, "std contains 0") }
        guard planes.count == 1 || planes.count == 3, srcH > 0, srcW > 0,
              planes.allSatisfy({ $0.count == srcH * srcW }) else {
            throw ImagingError(.invalidArgument, "\(planes.count) plane(s) do not form a \(srcH) x \(srcW) image of 1 or 3 channels")
        }
        if planes.count == 3 && channels == 1 {
            planes = [(0..<(srcH * srcW)).map { 0.299 * planes[0][$0] + 0.587 * planes[1][$0] + 0.114 * planes[2][$0] }]
        } else if planes.count == 1 && channels == 3 {
            planes = [planes[0], planes[0], planes[0]]
        }

        // Size after resizing, before crop or pad.
        var rh = height, rw = width
        if fit != .stretch {
            let sy = Double(height) / Double(srcH), sx = Double(width) / Double(srcW)
            let s = fit == .crop ? max(sy, sx) : min(sy, sx)
            rh = max(1, Int((Double(srcH) * s).rounded()))
            rw = max(1, Int((Double(srcW) * s).rounded()))
            if fit == .crop { rh = max(rh, height); rw = max(rw, width) } else { rh = min(rh, height); rw = min(rw, width) }
        }
        let offY = (rh - height) / 2, offX = (rw - width) / 2  // crop: >= 0; pad: <= 0
        var out = [Float](repeating: padValue, count: channels * height * width)
        for c in 0..<channels {
            let resized = resizePlane(planes[c], height: srcH, width: srcW, outHeight: rh, outWidth: rw)
            let m = mean.count == 1 ? mean[0] : mean[c], sd = std.count == 1 ? std[0] : std[c]
            for y in 0..<height {
                let sy = y + offY
                guard sy >= 0 && sy < rh else { continue }
                for x in 0..<width {
                    let sx = x + offX
                    guard sx >= 0 && sx < rw else { continue }
                    let v = (Float(resized[sy * rw + sx]) * scale - m) / sd
                    let index = layout == .nchw ? (c * height + y) * width + x : (y * width + x) * channels + c
                    out[index] = v
                }
            }
        }
        return out
    }
}
