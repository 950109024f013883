import Foundation
import Testing
@testable import VaultCore
import VaultTestSupport

/// `--preset schema-org`: Order JSON-LD in JSON files, HTML pages, e-mail messages and folders.
@Suite struct SchemaOrgImportTests {
    static let options = PurchaseImport.Options(preset: "schema-org")

    func read(_ files: [(String, String)], options: PurchaseImport.Options = options) throws -> PurchaseImport.Batch {
        try PurchaseImport.read(files.map { PurchaseImport.InputFile(name: $0.0, data: Data($0.1.utf8)) }, options: options)
    }

    static let order = """
        {"@context": "https://schema.org", "@type": "Order", "merchant": {"@type": "Organization", "name": "Bolt Bikes"},
         "orderNumber": "BB-1", "orderDate": "2024-06-01T10:15:00-07:00", "priceCurrency": "EUR",
         "acceptedOffer": [
           {"@type": "Offer", "itemOffered": {"@type": "Product", "name": "Helmet"}, "price": 19.99, "eligibleQuantity": {"value": 3}},
           {"@type": "Offer", "itemOffered": "Bell", "price": "7.45", "priceCurrency": "EUR"}
         ]}
        """

    @Test func anOrderInAJSONFileReadsExactly() throws {
        let batch = try read([("order.jsonld", Self.order)])
        #expect(batch.problems.isEmpty, "\(batch.problems)")
        #expect(batch.rows.map(\.location) == ["order.jsonld: order 1, item 1", "order.jsonld: order 1, item 2"])
        #expect(batch.rows.map(\.purchase.vendorName) == ["Bolt Bikes", "Bolt Bikes"])
        #expect(batch.rows.map { $0.purchase.price } == [Money(minorUnits: 5997, currency: "EUR"), Money(minorUnits: 745, currency: "EUR")])
        #expect(batch.rows.map(\.purchase.quantity) == [3, 1] && batch.rows.first?.purchase.date?.description == "2024-06-01")
    }

    @Test func htmlScriptsGraphsOrderedItemsAndCancelledOrders() throws {
        let html = """
            <html><head><SCRIPT TYPE='application/ld+json; charset=utf-8'>\(Self.order)</SCRIPT>
            <script type="application/ld+json">{"@graph": [
              {"@type": "ParcelDelivery", "partOfOrder": {"@type": ["Thing", "http://schema.org/Order"], "seller": "Bolt Bikes", "orderNumber": 77,
                "orderDate": "2024-06-03", "priceCurrency": "EUR",
                "orderedItem": [{"@type": "OrderItem", "orderQuantity": 2, "orderedItem": {"@type": "Product", "name": "Lube", "offers": {"price": 1e1}}},
                                {"@type": "Product", "name": "Rag"}]}},
              {"@type": "Order", "seller": "Bolt Bikes", "orderNumber": "BB-3", "orderDate": "2024-06-04", "orderStatus": "schema:OrderCancelled",
               "acceptedOffer": {"itemOffered": "Trailer", "price": 249, "priceCurrency": "EUR"}}
            ]}</script><script>var x = "<script type=\\"application/ld+json\\">";</script></head></html>
            """
        let batch = try read([("mail.html", html)])
        #expect(batch.problems.isEmpty, "\(batch.problems)")
        #expect(batch.rows.map(\.purchase.item) == ["Helmet", "Bell", "Lube", "Rag"])
        #expect(batch.rows.map(\.location).last == "mail.html: order 2, item 2")
        #expect(batch.rows[2].purchase.orderNumber == "77" && batch.rows[2].purchase.price == Money(minorUnits: 2000, currency: "EUR"))
        #expect(batch.rows[3].purchase.price == nil && batch.skipped.cancelled == 1)
    }

    @Test func anEmailIsDecodedPartByPart() throws {
        let encoded = Data(Self.order.utf8).base64EncodedString(options: .lineLength76Characters)
        let html =
            "<html><script type=3D\"application/ld+json\">{\"@type\": \"Order\", \"seller\": \"Caf=C3=A9 Zeit\", \"orderNumber\": \"Z-1\", =\r\n"
            + "\"orderDate\": \"2024-01-05\", \"acceptedOffer\": {\"itemOffered\": \"Cappuccino\", \"price\": \"3.20\", \"priceCurrency\": \"EUR\"}}</script></html>"
        let eml = """
            From: shop@example.org\r
            To: jo@example.org\r
            Subject: Your order\r
            MIME-Version: 1.0\r
            Content-Type: multipart/alternative;\r
             boundary="==b1=="\r
            \r
            preamble\r
            --==b1==\r
            Content-Type: text/plain; charset=utf-8\r
            \r
            Thanks for your order.\r
            --==b1==\r
            Content-Type: text/html; charset="utf-8"\r
            Content-Transfer-Encoding: quoted-printable\r
            \r
            \(html)\r
            --==b1==\r
            Content-Type: application/ld+json\r
            Content-Transfer-Encoding: base64\r
            \r
            \(encoded)\r
            --==b1==--\r
            """
        let batch = try read([("order.eml", eml)])
        #expect(batch.problems.isEmpty, "\(batch.problems)")
        #expect(batch.rows.map(\.purchase.vendorName) == ["Café Zeit", "Bolt Bikes", "Bolt Bikes"])
        #expect(batch.rows.first?.purchase.price == Money(minorUnits: 320, currency: "EUR"))
    }

    @Test func aFolderIsReadFileByFileWithNamedLocations() throws {
        let broken = "<script type=\"application/ld+json\">{\"@type\": \"Order\",</script>"
        let batch = try read([("a.html", "<p>newsletter</p>"), ("b.json", Self.order), ("c.html", broken)])
        #expect(batch.skipped.filesWithoutOrder == 1)
        #expect(batch.rows.map(\.location) == ["b.json: order 1, item 1", "b.json: order 1, item 2"])
        #expect(batch.problems.map(\.description) == ["c.html: JSON-LD block 1: invalid JSON at line 1: expected a key in quotes"])
    }

    @Test func theSameOrderInTwoMailsIsADuplicateNotADoubleQuantity() throws {
        let batch = try read([("confirmation.json", Self.order), ("shipped.json", Self.order)])
        #expect(batch.rows.map(\.purchase.quantity) == [3, 1, 3, 1])
        let dir = TemporaryDirectory()
        let vault = try makeVault(in: dir)
        let outcome = try vault.portability.importPurchases(batch, createVendors: true, dryRun: false)
        #expect(outcome.added.count == 2 && outcome.duplicates == 2 && outcome.newVendors == ["Bolt Bikes"])
        #expect(try vault.purchases.list().map(\.quantity).sorted() == [1, 3])
    }

    @Test func missingPiecesAreProblemsAndNoOrderIsAnError() throws {
        let order = #"{"@type": "Order", "orderDate": "yesterday", "acceptedOffer": {"itemOffered": {"name": "X"}, "price": "$5"}}"#
        let batch = try read([("o.json", order), ("p.json", #"{"@type": "Order", "seller": "S", "orderDate": "2024-01-01"}"#)])
        #expect(
            batch.problems.map(\.description) == [
                "o.json: order 1, item 1: no seller or merchant in the order (pass default_vendor)",
                "o.json: order 1, item 1, key \"orderDate\": invalid date \"yesterday\": use YYYY-MM-DD, or pass date_format with the file's layout (e.g. %m/%d/%y)",
                "o.json: order 1, item 1, key \"price\": \"$\" in the price \"$5\" could be USD, CAD, AUD, …: pass default_currency with the code",
                "p.json: order 1: the order has no acceptedOffer or orderedItem, so no item to record",
            ])
        #expect { try read([("x.html", "<html>no markup</html>")]) } throws: { "\($0)".contains("no schema.org Order in x.html (it has no JSON-LD)") }
        #expect { try read([("x.json", "{\"@type\": \"Person\"}")]) } throws: { "\($0)".contains("no schema.org Order in x.json") }
        #expect { try read([("empty.html", "")]) } throws: { "\($0)".contains("no schema.org Order in empty.html (it has no JSON-LD)") }
        let cut = try read([("cut.eml", "Content-Type: multipart/mixed; boundary=x\n\n--x\nContent-Type: text/html\n\n<script type=application/ld+json>{")])
        #expect(cut.problems.map(\.description) == ["cut.eml: JSON-LD block 1: invalid JSON at line 1: expected a key in quotes"])
        let garbage = try read([("a.json", "\u{0}{\"@type\": \"Order\"")])
        #expect(garbage.problems.map(\.description) == ["a.json: invalid JSON at line 1: expected a value"])
    }
}
