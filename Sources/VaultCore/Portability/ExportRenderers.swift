import Foundation

/// schema.org JSON-LD, purchases CSV and vCard 4 renderings of an export.
enum ExportRenderers {
    static func jsonLD(_ all: VaultExport) throws -> Data {
        var person: [String: Any] = ["@type": "Person"]
        let p = all.profile
        if let name = p["name"] { person["name"] = name }
        if let email = p["email"] { person["email"] = email }
        if let phone = p["phone"] { person["telephone"] = phone }
        if let birthday = p["birthday"] { person["birthDate"] = birthday }
        let addresses = p.filter { $0.key.hasPrefix("address.") }.sorted { $0.key < $1.key }
        if !addresses.isEmpty {
            person["address"] = addresses.map { ["@type": "PostalAddress", "name": String($0.key.dropFirst("address.".count)), "streetAddress": $0.value] }
        }
        let other = p.filter { !["name", "email", "phone", "birthday"].contains($0.key) && !$0.key.hasPrefix("address.") }.sorted { $0.key < $1.key }
        if !other.isEmpty {
            person["additionalProperty"] = other.map { ["@type": "PropertyValue", "name": $0.key, "value": $0.value] }
        }
        let vendors = Dictionary(all.vendors.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let orders: [[String: Any]] = all.purchases.map { purchase in
            var seller: [String: Any] = ["@type": "Organization", "name": vendors[purchase.vendorID]?.name ?? ""]
            if let site = vendors[purchase.vendorID]?.site { seller["url"] = site }
            var order: [String: Any] = [
                "@type": "Order", "identifier": purchase.id, "orderDate": purchase.date.description, "seller": seller,
                "orderedItem": ["@type": "OrderItem", "orderQuantity": purchase.quantity, "orderedItem": ["@type": "Product", "name": purchase.item]],
            ]
            if let number = purchase.orderNumber { order["orderNumber"] = number }
            if let price = purchase.price {
                order["partOfInvoice"] = [
                    "@type": "Invoice", "totalPaymentDue": ["@type": "PriceSpecification", "price": price.amount, "priceCurrency": price.currency],
                ]
            }
            if purchase.annotations.returned { order["orderStatus"] = "https://schema.org/OrderReturned" }
            if let who = purchase.giftFor {
                order["additionalProperty"] = [["@type": "PropertyValue", "name": "giftFor", "value": who]]
            }
            return order
        }
        let document: [String: Any] = ["@context": "https://schema.org", "@graph": [person] + orders]
        return try JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
    }

    static let csvColumns = [
        "id", "vendor", "item", "date", "price", "currency", "order", "quantity", "gift_for",
        "rating", "returned", "warranty_until", "tags", "notes",
    ]

    static func purchasesCSV(_ all: VaultExport) -> String {
        let names = Dictionary(all.vendors.map { ($0.id, $0.name) }, uniquingKeysWith: { a, _ in a })
        var lines = [CSV.line(csvColumns)]
        for p in all.purchases {
            lines.append(
                CSV.line([
                    p.id, names[p.vendorID] ?? "", p.item, p.date.description, p.price?.amount ?? "", p.price?.currency ?? "",
                    p.orderNumber ?? "", String(p.quantity), p.giftFor ?? "", p.annotations.rating.map(String.init) ?? "",
                    p.annotations.returned ? "yes" : "", p.annotations.warrantyUntil?.description ?? "",
                    p.annotations.tags.joined(separator: ";"), p.annotations.notes ?? "",
                ]))
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    /// vCard 4.0 (RFC 6350) of the profile; keys without a vCard property become X-VRM- properties.
    static func vCard(_ profile: [String: String]) -> String {
        func escape(_ s: String) -> String {
            s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: ",", with: "\\,")
                .replacingOccurrences(of: ";", with: "\\;").replacingOccurrences(of: "\r\n", with: "\\n").replacingOccurrences(of: "\n", with: "\\n")
        }
        var lines = ["BEGIN:VCARD", "VERSION:4.0"]
        lines.append("FN:" + escape(profile["name"] ?? profile["email"] ?? "VRM Vault profile"))
        for (key, value) in profile.sorted(by: { $0.key < $1.key }) {
            switch key {
            case "name": continue
            case "email": lines.append("EMAIL:" + escape(value))
            case "phone": lines.append("TEL:" + escape(value))
            case "birthday": lines.append("BDAY:" + escape(value.replacingOccurrences(of: "-", with: "")))
            case _ where key.hasPrefix("address."):
                let label = String(key.dropFirst("address.".count))
                // RFC 6350 TYPE for ADR is home or work; other labels go in an X- type the reader may ignore.
                let type =
                    label == "shipping" || label == "home"
                    ? "home"
                    : label == "billing" || label == "work"
                        ? "work"
                        : "x-" + label.filter { $0.isLetter || $0.isNumber || $0 == "-" }
                let quotedLabel = value.replacingOccurrences(of: "\"", with: "'").replacingOccurrences(of: "\r", with: " ").replacingOccurrences(
                    of: "\n", with: " ")
                lines.append("ADR;TYPE=\(type);LABEL=\"\(quotedLabel)\":;;\(escape(value));;;;")
            default:
                let name = "X-VRM-" + key.uppercased().map { $0.isLetter || $0.isNumber ? String($0) : "-" }.joined()
                lines.append(name + ":" + escape(value))
            }
        }
        lines.append("END:VCARD")
        return foldLines(lines).joined(separator: "\r\n") + "\r\n"
    }

    /// RFC 6350 §3.2: lines longer than 75 octets are folded with CRLF + space.
    static func foldLines(_ lines: [String]) -> [String] {
        lines.flatMap { line -> [String] in
            var out: [String] = []
            var current = ""
            var octets = 0
            for ch in line {
                let size = String(ch).utf8.count
                if octets + size > (out.isEmpty ? 75 : 74) {
                    out.append(out.isEmpty ? current : " " + current)
                    current = ""
                    octets = 0
                }
                current.append(ch)
                octets += size
            }
            out.append(out.isEmpty ? current : " " + current)
            return out
        }
    }
}
