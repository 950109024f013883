/// schema.org `Order` JSON-LD (`Specs/import.md` §7.2): a .json/.jsonld file, an HTML page or
/// an e-mail message with `<script type="application/ld+json">` blocks, or a folder of them.
/// One purchase per accepted offer (else per ordered item) of every Order found, at any depth
/// (`@graph`, arrays, a ParcelDelivery's `partOfOrder`).
struct SchemaOrgOrders {
    let encoding: ImportEncoding?

    func read(_ files: [PurchaseImport.InputFile]) throws -> SourceRead {
        var read = SourceRead()
        var ordinal = 0
        var group = 0
        for file in files {
            let name = ImportProblem.shown(file.name, 200)
            let blocks = try jsonLDBlocks(file)
            var orders = 0
            var broken = false
            for (index, block) in blocks.enumerated() {
                let value: JSONValue
                do {
                    value = try JSONText.parse(block)
                } catch {
                    let place = blocks.count == 1 && Self.isJSONFile(file.name) ? name : "\(name): JSON-LD block \(index + 1)"
                    read.problems.append(ImportProblem(location: place, field: nil, message: "\(error)", ordinal: ordinal))
                    ordinal += 1
                    broken = true
                    continue
                }
                var found: [JSONValue] = []
                Self.findOrders(in: value, into: &found)
                for order in found {
                    orders += 1
                    group += 1
                    add(order, location: "\(name): order \(orders)", group: group, ordinal: &ordinal, to: &read)
                }
            }
            guard orders == 0, !broken else { continue }
            guard files.count > 1 else {
                throw VaultError.invalidInput(
                    "no schema.org Order in \(name)"
                        + (blocks.isEmpty ? " (it has no JSON-LD)" : " (in \(blocks.count) JSON-LD block\(blocks.count == 1 ? "" : "s"))"))
            }
            read.skipped.filesWithoutOrder += 1
        }
        return read
    }

    static func isJSONFile(_ name: String) -> Bool {
        let lower = name.lowercased()
        return lower.hasSuffix(".json") || lower.hasSuffix(".jsonld")
    }

    /// The file's JSON-LD: a JSON file whole, a message's parts, an HTML page's scripts.
    private func jsonLDBlocks(_ file: PurchaseImport.InputFile) throws -> [String] {
        let bytes = Array(file.data)
        let lower = file.name.lowercased()
        if Self.isJSONFile(file.name) { return [try text(file)] }
        if lower.hasSuffix(".eml") || MailText.looksLikeMessage(bytes) { return MailText.jsonLDBlocks(inMessage: bytes) }
        let text = try text(file)
        let start = text.drop { $0.isWhitespace || $0 == "\u{FEFF}" }.first
        if start == "{" || start == "[" { return [text] }
        return MailText.jsonLDScripts(inHTML: text)
    }

    private func text(_ file: PurchaseImport.InputFile) throws -> String {
        try ImportText.decode(file.data, encoding: encoding ?? .utf8, name: file.name)
    }

    /// Orders anywhere in `value`, in document order (an Order is not searched for more).
    static func findOrders(in value: JSONValue, into found: inout [JSONValue]) {
        switch value {
        case .array(let elements):
            for element in elements { findOrders(in: element, into: &found) }
        case .object(let members):
            if isType(value, "Order") {
                found.append(value)
                return
            }
            for member in members { findOrders(in: member.value, into: &found) }
        default: break
        }
    }

    /// `Order`, `schema:Order`, `http://schema.org/Order`, …: the name after the vocabulary.
    static func term(_ text: String) -> String {
        var term = text.trimmingCharacters(in: .whitespaces)
        while term.hasSuffix("/") { term.removeLast() }
        if let cut = term.lastIndex(where: { $0 == "/" || $0 == ":" || $0 == "#" }) { term = String(term[term.index(after: cut)...]) }
        return term
    }

    static func isType(_ value: JSONValue, _ type: String) -> Bool {
        switch value["@type"] {
        case .string(let text)?: term(text) == type
        case .array(let elements)?: elements.contains { if case .string(let text) = $0 { term(text) == type } else { false } }
        default: false
        }
    }

    /// A thing's name: a string as it is, an object's `name`, an array's first named element.
    static func name(_ value: JSONValue?) -> String? {
        switch value {
        case .string(let text)?: return text
        case .object?: return value?["name"].flatMap(name)
        case .array(let elements)?:
            for element in elements { if let found = name(element) { return found } }
            return nil
        default: return nil
        }
    }

    /// An object, or an array's objects.
    static func list(_ value: JSONValue?) -> [JSONValue] {
        switch value {
        case .array(let elements)?: elements.filter { $0.members != nil }
        case .object?: value.map { [$0] } ?? []
        default: []
        }
    }

    /// A number or string as text (`QuantitativeValue` objects by their `value`); numbers
    /// exactly, from their decimal text.
    static func scalar(_ value: JSONValue?, whole: Bool = false) -> String? {
        switch value {
        case .string(let text)?: return text
        case .number(let literal)?: return whole ? (JSONNumber.wholeNumber(literal) ?? literal) : JSONNumber.plainDecimal(literal) ?? literal
        case .object?: return scalar(value?["value"], whole: whole)
        case .array(let elements)?: return elements.first.flatMap { scalar($0, whole: whole) }
        default: return nil
        }
    }

    private func add(_ order: JSONValue, location: String, group: Int, ordinal: inout Int, to read: inout SourceRead) {
        let status = Self.scalar(order["orderStatus"]) ?? order["orderStatus"]?["@id"].flatMap { Self.scalar($0) } ?? ""
        let offers = Self.list(order["acceptedOffer"])
        let items = offers.isEmpty ? Self.list(order["orderedItem"]) : []
        if Self.term(status) == "OrderCancelled" {
            read.skipped.cancelled += max(1, offers.count + items.count)
            return
        }
        guard !offers.isEmpty || !items.isEmpty else {
            read.problems.append(
                ImportProblem(location: location, field: nil, message: "the order has no acceptedOffer or orderedItem, so no item to record", ordinal: ordinal))
            ordinal += 1
            return
        }
        var base = DraftRow(location: location, ordinal: 0)
        base.unitPrice = true
        base.paddedAmounts = true
        base.mergeGroup = group
        base.missingVendor = "no seller or merchant in the order (pass default_vendor)"
        let sellerKey = order["seller"] != nil ? "seller" : "merchant"
        base.set(.vendor, DraftRow.oneLine(Self.name(order[sellerKey])), label: "key \"\(sellerKey)\"")
        base.set(.date, Self.scalar(order["orderDate"]), label: "key \"orderDate\"")
        base.set(.order, Self.scalar(order["orderNumber"]), label: "key \"orderNumber\"")
        let orderCurrency = Self.scalar(order["priceCurrency"])

        for (index, offer) in offers.enumerated() {
            var draft = base
            draft.location = "\(location), item \(index + 1)"
            draft.ordinal = ordinal
            ordinal += 1
            draft.set(.item, DraftRow.oneLine(Self.name(offer["itemOffered"])), label: "key \"itemOffered\"")
            let specification = Self.list(offer["priceSpecification"]).first
            draft.set(.price, Self.scalar(offer["price"]) ?? Self.scalar(specification?["price"]), label: "key \"price\"")
            if draft[.price] != nil {
                draft.set(
                    .currency, Self.scalar(offer["priceCurrency"]) ?? Self.scalar(specification?["priceCurrency"]) ?? orderCurrency,
                    label: "key \"priceCurrency\"")
            }
            draft.set(.quantity, Self.scalar(offer["eligibleQuantity"], whole: true), label: "key \"eligibleQuantity\"")
            read.drafts.append(draft)
        }
        for (index, item) in items.enumerated() {
            var draft = base
            draft.location = "\(location), item \(index + 1)"
            draft.ordinal = ordinal
            ordinal += 1
            let product = Self.isType(item, "OrderItem") ? Self.list(item["orderedItem"]).first ?? item["orderedItem"] : item
            draft.set(.item, DraftRow.oneLine(Self.name(product)), label: "key \"orderedItem\"")
            if Self.isType(item, "OrderItem") {
                draft.set(.quantity, Self.scalar(item["orderQuantity"], whole: true), label: "key \"orderQuantity\"")
            }
            let offer = Self.list(product?["offers"]).first
            draft.set(.price, Self.scalar(offer?["price"]), label: "key \"price\"")
            if draft[.price] != nil {
                draft.set(.currency, Self.scalar(offer?["priceCurrency"]) ?? orderCurrency, label: "key \"priceCurrency\"")
            }
            read.drafts.append(draft)
        }
    }
}
