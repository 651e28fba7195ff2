// The modality LUT (PS3.3 C.11.1) and the VOI transform (PS3.3 C.11.2), in float64 and in the same
// order of operations as pydicom's apply_modality_lut and apply_windowing, so values agree exactly.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension DicomImage {
    /// The range stored values can take (from Bits Stored and Pixel Representation).
    func storedRange() -> (min: Double, max: Double) {
        isSigned ? (-pow(2, Double(bitsStored - 1)), pow(2, Double(bitsStored - 1)) - 1) : (0, pow(2, Double(bitsStored)) - 1)
    }

    /// The stored range through Rescale Slope/Intercept: the VOI output range, as pydicom takes it.
    func modalityRange() -> (min: Double, max: Double) {
        var (yMin, yMax) = storedRange()
        if let (slope, intercept) = rescale {
            yMin = yMin * slope + intercept
            yMax = yMax * slope + intercept
        }
        return (yMin, yMax)
    }

    /// Rescale Slope/Intercept applied (`v * slope + intercept`); values unchanged without them.
    func modalityValues(_ stored: [Double]) throws(ImagingError) -> [Double] {
        guard !hasModalityLUTSequence else {
            throw ImagingError(.unsupportedPixelFormat, "Modality LUT Sequence (0028,3000) is not applied by this reader")
        }
        var v = stored
        if let (slope, intercept) = rescale {
            for i in v.indices {
                var x = v[i] * slope
                x += intercept
                v[i] = x
            }
        }
        return v
    }

    /// Window Center/Width applied to modality values (LINEAR, LINEAR_EXACT or SIGMOID), output in
    /// the range the stored bits and rescale allow; values unchanged when there is no window.
    func voiValues(_ input: [Double], override: Window?) throws(ImagingError) -> [Double] {
        guard let window = override ?? windows.first else {
            if hasVOILUTSequence {
                throw ImagingError(.unsupportedPixelFormat, "VOI LUT Sequence (0028,3010) is not applied by this reader")
            }
            return input
        }
        if override == nil && hasVOILUTSequence {
            throw ImagingError(.unsupportedPixelFormat, "VOI LUT Sequence (0028,3010) is not applied by this reader (pydicom prefers it to the window)")
        }
        guard photometric == "MONOCHROME1" || photometric == "MONOCHROME2" else {
            throw ImagingError(.unsupportedPixelFormat, "a VOI window applies to MONOCHROME1/MONOCHROME2 only; Photometric Interpretation (0028,0004) is \(photometric)")
        }
        let (yMin, yMax) = modalityRange()
        let yRange = yMax - yMin
        var center = window.center, width = window.width
        var out = input
        switch voiFunction {
        case "LINEAR", "LINEAR_EXACT":
            if voiFunction == "LINEAR" {
                guard width >= 1 else {
                    throw ImagingError(.invalidAttribute, "Window Width (0028,1051) is \(width); LINEAR windowing needs at least 1")
                }
                center -= 0.5
                width -= 1
            } else {
                guard width > 0 else {
                    throw ImagingError(.invalidAttribute, "Window Width (0028,1051) is \(width); LINEAR_EXACT windowing needs more than 0")
                }
            }
            let low = center - width / 2, high = center + width / 2
            for i in out.indices {
                let x = out[i]
                if x <= low {
                    out[i] = yMin
                } else if x > high {
                    out[i] = yMax
                } else {
                    out[i] = ((x - center) / width + 0.5) * yRange + yMin
                }
            }
        case "SIGMOID":
            guard width > 0 else {
                throw ImagingError(.invalidAttribute, "Window Width (0028,1051) is \(width); SIGMOID windowing needs more than 0")
            }
            for i in out.indices {
                out[i] = yRange / (1 + exp(-4 * (out[i] - center) / width)) + yMin
            }
        default:
            throw ImagingError(.unsupportedPixelFormat, "VOI LUT Function (0028,1056) '\(voiFunction)' is not LINEAR, LINEAR_EXACT or SIGMOID")
        }
        return out
    }
}
