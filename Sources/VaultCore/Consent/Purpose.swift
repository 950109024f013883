/// Why a vendor receives data: a fixed vocabulary recorded in the grant, the share and the receipt.
public enum Purpose: String, Sendable, CaseIterable, Codable {
    case serviceProvision = "service-provision"
    case delivery
    case warranty
    case support
    case personalisation
    case marketing
    case research
    case legalCompliance = "legal-compliance"

    /// A one-line meaning, shown in `vrm grant create --help` and in receipts.
    public var meaning: String {
        switch self {
        case .serviceProvision: "to provide a service or product you asked for"
        case .delivery: "to deliver goods to you"
        case .warranty: "to honour a warranty or guarantee"
        case .support: "to help with a support case you opened"
        case .personalisation: "to tailor offers or the service to you"
        case .marketing: "to send you marketing"
        case .research: "for research or statistics"
        case .legalCompliance: "to meet a legal obligation (tax, records, recalls)"
        }
    }

    /// Parses a purpose; the error lists the vocabulary.
    public static func parse(_ text: String) throws -> Purpose {
        guard let purpose = Purpose(rawValue: text.trimmingCharacters(in: .whitespaces)) else {
            throw VaultError.invalidInput(
                "unknown purpose \"\(ImportProblem.shown(text, 40))\"; valid purposes: \(allCases.map(\.rawValue).joined(separator: ", "))"
            )
        }
        return purpose
    }
}
