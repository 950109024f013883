/// An element of an XML document, or of an SGML one such as an OFX 1.x statement: its local
/// name (any `prefix:` dropped), attributes, direct text and child elements.
struct MarkupElement: Sendable, Equatable {
    var name: String
    var attributes: [String: String] = [:]
    var text = ""
    var children: [MarkupElement] = []
    /// The line its start tag is on, from 1.
    var line: Int

    /// The first direct child called `name`.
    func child(_ name: String) -> MarkupElement? {
        children.first { $0.name == name }
    }

    /// The trimmed text of the first element down `names`, nil when absent or blank.
    func value(_ names: String...) -> String? {
        var current = self
        for name in names {
            guard let next = current.child(name) else { return nil }
            current = next
        }
        let text = current.text.trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? nil : text
    }

    /// Every element with one of `names` below this one, in document order, not looking inside
    /// a match (an element found is not searched for more).
    func descendants(_ names: Set<String>) -> [MarkupElement] {
        var found: [MarkupElement] = []
        var stack: [(MarkupElement, Int)] = [(self, 0)]
        while let (element, next) = stack.popLast() {
            guard next < element.children.count else { continue }
            stack.append((element, next + 1))
            let child = element.children[next]
            if names.contains(child.name) {
                found.append(child)
            } else {
                stack.append((child, 0))
            }
        }
        return found
    }
}
