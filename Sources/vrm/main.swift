print("vrm")
