"""placeholder"""
def main():
    print("tsrnn")
