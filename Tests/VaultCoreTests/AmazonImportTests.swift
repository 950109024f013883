import Foundation
import Testing
@testable import VaultCore

/// `--preset amazon`: the "Your Orders" export as CSV and as JSON, with the values real
/// exports carry.
@Suite struct AmazonImportTests {
    static let header =
        "Website,Order ID,Order Date,Purchase Order Number,Currency,Unit Price,Unit Price Tax,Shipping Charge,Total Discounts,Total Owed,"
        + "Shipment Item Subtotal,Shipment Item Subtotal Tax,ASIN,Product Condition,Quantity,Payment Instrument Type,Order Status,Shipment Status,"
        + "Ship Date,Shipping Option,Shipping Address,Billing Address,Carrier Name & Tracking Number,Product Name,Gift Message,Gift Sender Name,"
        + "Gift Recipient Contact Details,Item Serial Number"

    /// A row with the columns that matter set, the rest as exports fill them.
    static func row(
        website: String = "Amazon.com", order: String = "111-0000001-0000001", date: String = "2024-03-14T18:22:05Z", currency: String = "USD",
        unit: String = "24.99", total: String = "27.05", quantity: String = "1", status: String = "Closed", product: String = "Socks",
        giftMessage: String = "Not Available", recipient: String = "Not Available"
    ) -> String {
        let cells = [
            website, order, date, "Not Applicable", currency, unit, "2.06", "0", "0", total, unit, "2.06", "B000000001", "New", quantity, "Visa - 0000",
            status, "Shipped", "2024-03-15T02:11:09Z", "standard", "1 Main St, Springfield", "1 Main St, Springfield", "USPS(94001)", product, giftMessage,
            "Not Available", recipient, "Not Available",
        ]
        return CSV.line(cells)
    }

    func read(_ rows: [String], vendor: String? = nil, extraHeader: String = "") throws -> PurchaseImport.Batch {
        let text = "\u{FEFF}" + Self.header + extraHeader + "\r\n" + rows.joined(separator: "\r\n") + "\r\n"
        return try importBatch(text, name: "Retail.OrderHistory.1.csv", PurchaseImport.Options(preset: "amazon", defaultVendor: vendor))
    }

    @Test func aRealLookingExportReads() throws {
        let batch = try read([
            Self.row(),
            Self.row(
                order: "111-0000002-0000002", date: "2024-05-02T09:01:44.123Z", unit: "1,199.00", total: "$1,247.92", product: "Tent \"Ridge\",\n2-Person",
                giftMessage: "Happy birthday!", recipient: "Sam Example\n2 Oak Ave"),
            Self.row(order: "111-0000003-0000003", unit: "4.50", total: "Not Available", quantity: "3", product: "Tablets"),
            Self.row(order: "111-0000004-0000004", status: "Cancelled", product: "Stove"),
        ])
        #expect(batch.problems.isEmpty, "\(batch.problems)")
        #expect(batch.skipped.cancelled == 1 && batch.source == "amazon")
        let purchases = batch.rows.map(\.purchase)
        #expect(purchases.map(\.vendorName) == ["Amazon.com", "Amazon.com", "Amazon.com"])
        #expect(purchases.map(\.item) == ["Socks", "Tent \"Ridge\", 2-Person", "Tablets"])
        #expect(purchases.map { $0.date?.description } == ["2024-03-14", "2024-05-02", "2024-03-14"])
        #expect(purchases.map { $0.price?.formatted } == ["27.05 USD", "1247.92 USD", "13.50 USD"])
        #expect(purchases.map(\.quantity) == [1, 1, 3])
        #expect(purchases.map(\.orderNumber) == ["111-0000001-0000001", "111-0000002-0000002", "111-0000003-0000003"])
        #expect(purchases.map(\.giftFor) == [nil, "Sam Example", nil])
        #expect(batch.rows.map(\.location) == ["line 2", "line 3", "line 6"])
    }

    @Test func vendorComesFromVendorOptionElseTheWebsite() throws {
        #expect(try read([Self.row()], vendor: "Amazon").rows.first?.purchase.vendorName == "Amazon")
        #expect(try read([Self.row(website: "www.amazon.de")]).rows.first?.purchase.vendorName == "amazon.de")
        #expect(try read([Self.row(website: "Panda01")]).rows.first?.purchase.vendorName == "Amazon")
        #expect(try read([Self.row(website: "Not Available")]).rows.first?.purchase.vendorName == "Amazon")
    }

    @Test func theSameItemInTwoShipmentsIsOnePurchase() throws {
        let batch = try read([Self.row(total: "21.11", product: "Headlamp"), Self.row(total: "21.11", product: "headlamp ")])
        #expect(batch.rows.count == 1 && batch.rows.first?.purchase.quantity == 2 && batch.rows.first?.purchase.price?.minorUnits == 4222)
        let mixed = try read([Self.row(total: "21.11", product: "Headlamp"), Self.row(currency: "EUR", total: "21.11", product: "Headlamp")])
        #expect(mixed.problems.first?.description.contains("line 3: the same item of order \"111-0000001-0000001\" is also at line 2") == true)
    }

    @Test func extraColumnsAreIgnoredAndOnlyTheNeededOnesAreRequired() throws {
        let minimal = "Order ID,Order Date,Product Name,Something New\n112-1,2024-01-02,Book,x\n"
        let batch = try importBatch(minimal, PurchaseImport.Options(preset: "amazon"))
        #expect(batch.rows.first?.purchase.item == "Book" && batch.rows.first?.purchase.price == nil && batch.rows.first?.purchase.vendorName == "Amazon")
        #expect { try importBatch("vendor,item,date\n", PurchaseImport.Options(preset: "amazon")) } throws: {
            "\($0)".contains("line 1: missing columns \"Order ID\", \"Order Date\", \"Product Name\": not an Amazon order history")
        }
    }

    @Test func badValuesAreReportedWithTheirColumns() throws {
        let batch = try read([
            Self.row(date: "14/03/2024"), Self.row(order: "2", total: "twelve"), Self.row(order: "3", quantity: "0"),
            Self.row(order: "4", product: "Not Available"),
        ])
        #expect(
            batch.problems.map(\.description) == [
                "line 2, column \"Order Date\": invalid date \"14/03/2024\": use YYYY-MM-DD, or pass date_format with the file's layout (e.g. %m/%d/%y)",
                "line 3, column \"Total Owed\": invalid price \"twelve\": use a non-negative amount like 12.34",
                "line 4, column \"Quantity\": invalid quantity \"0\": use a whole number of at least 1",
            ])
        #expect(batch.rows.map(\.purchase.item) == ["ASIN B000000001"])
    }

    @Test(arguments: [
        ("", "orders.csv", "the file is empty: expected an Amazon order history"), ("\u{FEFF}", "orders.csv", "the file is empty"),
        ("\u{0}\u{1}\u{2}garbage,,", "orders.csv", "not an Amazon order history"),
        ("Order ID,Order Date,\"Product", "orders.csv", "a quoted field is never closed"),
        ("", "h.json", "an Amazon order history in JSON must be"), ("[{\"Order ID\": ", "h.json", "invalid JSON at line 1"),
    ])
    func emptyGarbageAndTruncatedFilesAreClearErrors(_ text: String, _ name: String, _ message: String) {
        #expect { try importBatch(text, name: name, PurchaseImport.Options(preset: "amazon")) } throws: { "\($0)".contains(message) }
    }

    @Test func theJSONFormReadsAnArrayOrAWrappedArray() throws {
        let entry =
            #"{"Website": "Amazon.com", "Order ID": "112-9", "Order Date": "2024-03-14T18:22:05.123Z", "Currency": "USD", "Unit Price": 19.99, "#
            + #""Quantity": 3, "Total Owed": "Not Available", "Product Name": "Mug", "Gift Message": null, "ASIN": "B0X"}"#
        for text in ["[\(entry)]", "{\"orders\": [\(entry)], \"note\": \"x\"}"] {
            let batch = try importBatch(text, name: "history.json", PurchaseImport.Options(preset: "amazon"))
            #expect(batch.problems.isEmpty, "\(batch.problems)")
            #expect(batch.rows.first?.purchase.price == Money(minorUnits: 5997, currency: "USD") && batch.rows.first?.location == "entry 1")
        }
        let bad = try importBatch(
            #"[{"Order ID": "1", "Order Date": "2024-01-01", "Product Name": ["x"]}, 7]"#, name: "h.json", PurchaseImport.Options(preset: "amazon"))
        #expect(bad.problems.map(\.description) == ["entry 1, key \"Product Name\": must be a string or a number, not an array", "entry 2: not an object"])
        #expect { try importBatch("{\"a\": 1}", name: "h.json", PurchaseImport.Options(preset: "amazon")) } throws: {
            "\($0)".contains("an Amazon order history in JSON")
        }
    }
}
