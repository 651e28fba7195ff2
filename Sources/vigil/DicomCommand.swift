import ArgumentParser
import Foundation
import VigilImaging

struct DicomCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dicom",
        abstract: "Decode the pixels of a DICOM file and write them as .npy.",
        discussion: """
            Reads a DICOM Part 10 file (Implicit/Explicit VR Little Endian, Explicit VR Big Endian, \
            Deflated Explicit VR Little Endian, RLE Lossless; JPEG-family syntaxes are refused with \
            their UID and name) and writes every frame at the chosen stage, shaped as pydicom's \
            pixel_array: [rows, cols], [frames, rows, cols], with a trailing 3 for colour.

            Stages and the dtype written:
              stored    stored values, sign-extended or masked to Bits Stored:
                        uint8/int8, uint16/int16, uint32/int32 (by Bits Allocated)
              modality  after Rescale Slope/Intercept: float64
              voi       modality, then Window Center/Width (first window): float64

            A one-line summary (transfer syntax, size, frames, dtype) goes to stderr. See docs/IMAGING.md.

            Example:
              vigil dicom CT_small.dcm --output ct.npy --stage modality
            """
    )

    @Argument(help: "The DICOM file.") var file: String
    @Option(name: .shortAndLong, help: "Where to write the pixels (.npy).") var output: String
    @Option(help: "stored | modality | voi") var stage: String = "stored"

    func validate() throws {
        guard PixelStage(rawValue: stage) != nil else {
            throw ValidationError("--stage must be stored, modality or voi; got '\(stage)'")
        }
    }

    func run() throws {
        let stage = PixelStage(rawValue: stage)!
        let image: DicomImage
        let pixels: PixelArray
        do {
            image = try DicomFile.read(path: file)
            pixels = try image.pixels(stage: stage)
        } catch {
            throw fail("\(file): \(error)")
        }
        do {
            try Data(pixels.npyBytes()).write(to: URL(fileURLWithPath: output))
        } catch {
            throw fail("\(output): cannot write (\(error.localizedDescription))", Exit.failure)
        }
        var err = StandardError()
        print("vigil dicom: \(file): \(image.transferSyntaxName) (\(image.transferSyntaxUID)), " +
              "\(image.rows)x\(image.columns), \(image.frames) frame(s), \(image.samplesPerPixel) sample(s), " +
              "\(image.photometric), \(image.bitsAllocated)/\(image.bitsStored) bits \(image.isSigned ? "signed" : "unsigned"); " +
              "\(stage.rawValue) -> \(pixels.dtypeName) \(pixels.shape)", to: &err)
    }
}
